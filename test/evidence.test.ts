import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANYARD_ACCESS, PATCH_OP } from '../src/scim/schemas.js';
import { runCli } from './helpers/cli.js';
import type { DownstreamPostgres } from './helpers/downstream-postgres.js';
import { eventually } from './helpers/eventually.js';
import { grantsOf, idp, INTAKE, startWarehouseTenant, type WarehouseTenant } from './helpers/provisioning-tenant.js';
import type { TestService, TestTenant } from './helpers/test-service.js';

/**
 * `lanyard evidence` against the real pipeline: a user's access is requested, approved through the CLI,
 * provisioned into a real PostgreSQL downstream, extended by the IdP, held by the mass-deprovision brake,
 * released through the CLI and revoked; another grant expires through the lifecycle schedule; requests are
 * denied and left to expire. The report must tell all of it, from the records alone.
 */
let fixture: WarehouseTenant | undefined;
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: WarehouseTenant['scim'];
let cliEnv: Record<string, string>;
let groups: { loaders: string; analysts: string; exporters: string };

const POLICY = (roles: Record<string, string>) => `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  loader:
    entitlements:
      warehouse: [role:${roles['loader']}]
    maxDuration: P30D
    approval: required
  analyst:
    entitlements:
      warehouse: [role:${roles['analyst']}]
    maxDuration: P90D
  exporter:
    entitlements:
      warehouse: [role:${roles['exporter']}]
    maxDuration: P7D
    approval: required
approvals:
  approvers: [sponsor, tenant]
  tenantApprovers: [lead@globex.example]
  deadline: P3D
rules:
  - name: Partner loaders
    when: { group: Partner Loaders }
    grant: [loader]
  - name: Partner analysts
    when: { group: Partner Analysts }
    grant: [analyst]
  - name: Partner exporters
    when: { group: Partner Exporters }
    grant: [exporter]
brake:
  window: PT1H
  minimum: 1
  percent: 0
`;

const cli = (args: string[]) => runCli(args, cliEnv);
const DAY = 86_400_000;

interface Event {
  seq: number;
  at: string;
  action: string;
  actor: string;
  detail: Record<string, unknown>;
}
interface Approval {
  id: string;
  package: string;
  state: string;
  stateSince: string | null;
  rules: unknown[];
  policyVersion: number | null;
  approvers: unknown;
  requestedAt: string;
  deadline: string;
  decidedBy: string | null;
  decidedAs: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  endsAt: string | null;
  timeline: Event[];
}
interface Grant {
  id: string;
  connector: string;
  entitlement: string;
  state: string;
  ended: boolean;
  userName: string;
  rules: unknown[];
  packages: string[];
  policyVersion: number | null;
  requestedAt: string;
  startedAt: string | null;
  endsAt: string | null;
  endBound: string | null;
  heldAt: string | null;
  revokeReason: string | null;
  revokeDecidedAt: string | null;
  revokedAt: string | null;
  failedAt: string | null;
  lastError: string | null;
  approvals: Approval[];
  exception: unknown;
  hold: { id: string; state: string; reason: string; createdAt: string; decidedBy: string | null; decidedAt: string | null; decisionReason: string | null } | null;
  timeline: Event[];
}
interface UserReport {
  userId: string;
  userName: string;
  status: string;
  grants: Grant[];
  requestsWithoutGrant: Approval[];
  exceptionsWithoutGrant: unknown[];
  holdsWithoutGrant: unknown[];
}
interface Report {
  tenant: { id: string; slug: string; name: string };
  user: string | null;
  generatedAt: string;
  users: UserReport[];
  totals: Record<string, number>;
}

async function pendingRequest(userId: string, pkg: string): Promise<string> {
  return eventually(async () => {
    const [row] = await svc.sql<{ id: string; state: string }>('SELECT id, state FROM approval_requests WHERE user_id = $1 AND package = $2', [userId, pkg]);
    expect(row?.state).toBe('pending');
    return row!.id;
  });
}

const grantStates = async (userId: string) => (await grantsOf(svc, t, userId)).map((g) => [g.entitlement, g.state]);

/** The audit events of one record, as the trail has them. */
async function eventsOf(resourceId: string) {
  return svc.sql<{ seq: number; action: string; actor: string; occurred_at: Date }>(
    'SELECT seq::int, action, actor, occurred_at FROM audit_events WHERE tenant_id = $1 AND resource_id = $2 ORDER BY seq',
    [t.id, resourceId],
  );
}

beforeAll(async () => {
  fixture = await startWarehouseTenant(['loader', 'analyst', 'exporter'], POLICY);
  ({ svc, t, downstream, scim } = fixture);
  cliEnv = svc.cliEnv();
  groups = { loaders: await scim.createGroup('Partner Loaders'), analysts: await scim.createGroup('Partner Analysts'), exporters: await scim.createGroup('Partner Exporters') };
});
afterAll(() => fixture?.close());

describe('lanyard evidence', () => {
  it('tells a grant’s whole life (rule, group, approval, start, IdP extension, brake hold and release, revocation), an expired grant and requests that never became access', { timeout: 120_000 }, async () => {
    const { loaders, analysts, exporters } = groups;
    const firstEnd = new Date(Math.ceil((Date.now() + 10 * DAY) / 1000) * 1000);
    const laterEnd = new Date(firstEnd.getTime() + 10 * DAY);
    const userName = 'audrey.audit@partner.example';
    const audrey = await scim.createUser(userName, { [LANYARD_ACCESS]: { ...INTAKE, accessEndDate: firstEnd.toISOString() } });
    const otto = await scim.createUser('otto.other@partner.example');
    await scim.members(analysts, 'add', [audrey, otto]);
    await scim.members(loaders, 'add', [audrey]);
    await scim.members(exporters, 'add', [audrey, otto]);

    // Approved by the sponsor (loader), denied by the tenant's approver (exporter).
    const loaderRequest = await pendingRequest(audrey, 'loader');
    const exporterRequest = await pendingRequest(audrey, 'exporter');
    const approved = await cli(['approvals', 'approve', loaderRequest, '--by', INTAKE.sponsor, '--reason', 'quarterly load']);
    expect(approved.code, approved.stderr).toBe(0);
    const denied = await cli(['approvals', 'deny', exporterRequest, '--by', 'lead@globex.example', '--reason', 'no business need']);
    expect(denied.code, denied.stderr).toBe(0);
    await eventually(async () =>
      expect(await grantStates(audrey)).toEqual([
        [`role:${downstream.roles['analyst']}`, 'active'],
        [`role:${downstream.roles['loader']}`, 'active'],
      ]),
    );
    const grantId = async (role: string) => (await grantsOf(svc, t, audrey)).find((g) => g.entitlement === `role:${downstream.roles[role]}`)!.id;
    const loaderGrant = await grantId('loader');
    const analystGrant = await grantId('analyst');

    // The IdP pushes a later end date: both grants are extended to it.
    await svc.http
      .patch(`${t.path}/Users/${audrey}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${LANYARD_ACCESS}:accessEndDate`, value: laterEnd.toISOString() }] })
      .expect(204);
    await eventually(async () =>
      expect(await svc.sql('SELECT ends_at, end_bound FROM grants WHERE user_id = $1 ORDER BY created_at', [audrey])).toEqual([
        { ends_at: laterEnd, end_bound: 'user' },
        { ends_at: laterEnd, end_bound: 'user' },
      ]),
    );

    // Time passes: the analyst grant reaches its end, Otto's exporter request its deadline.
    const [moved] = await svc.sql<{ ends_at: Date }>("UPDATE grants SET ends_at = now() - interval '1 minute' WHERE id = $1 RETURNING ends_at", [analystGrant]);
    const analystEnd = moved!.ends_at;
    const ottoRequest = await pendingRequest(otto, 'exporter');
    await svc.sql("UPDATE approval_requests SET deadline = now() - interval '1 minute' WHERE id = $1", [ottoRequest]);
    await svc.workers!.schedules.runNow('lifecycle-due');
    await eventually(async () => {
      expect(await svc.sql('SELECT state, revoke_reason FROM grants WHERE id = $1', [analystGrant])).toEqual([{ state: 'revoked', revoke_reason: 'expired' }]);
      expect(await svc.sql('SELECT state FROM approval_requests WHERE id = $1', [ottoRequest])).toEqual([{ state: 'expired' }]);
    });

    // One deactivation goes through; the next one meets the brake and waits for an operator, who releases it.
    await scim.setActive(otto, false);
    await eventually(async () => expect((await grantsOf(svc, t, otto)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'deactivated']]));
    await scim.setActive(audrey, false);
    await eventually(async () => expect(await svc.sql('SELECT state FROM grants WHERE id = $1', [loaderGrant])).toEqual([{ state: 'held' }]));
    const [hold] = await svc.sql<{ id: string }>("SELECT id FROM deprovision_holds WHERE user_id = $1 AND state = 'pending'", [audrey]);
    const released = await cli(['holds', 'release', hold!.id, '--by', 'ops@msp.example', '--reason', 'confirmed leaver']);
    expect(released.code, released.stderr).toBe(0);
    await eventually(async () => {
      expect(await svc.sql('SELECT state, revoke_reason FROM grants WHERE id = $1', [loaderGrant])).toEqual([{ state: 'revoked', revoke_reason: 'deactivated' }]);
      expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE tenant_id = $1', [t.id])).toEqual([]);
    });

    // ── The JSON report of the user ──
    const json = await cli(['evidence', t.slug, '--user', 'Audrey.Audit@partner.example', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.tenant).toEqual({ id: t.id, slug: t.slug, name: t.slug });
    expect(report.user).toBe('Audrey.Audit@partner.example');
    expect(report.users.map((u) => [u.userId, u.userName, u.status])).toEqual([[audrey, userName, 'inactive']]);
    const [user] = report.users as [UserReport];
    expect(user.grants.map((g) => g.id)).toEqual([analystGrant, loaderGrant]);
    const [analyst, loader] = user.grants as [Grant, Grant];
    const rows = await svc.sql<{ id: string; created_at: Date; starts_at: Date }>('SELECT id, created_at, starts_at FROM grants WHERE user_id = $1', [audrey]);
    const row = (id: string) => rows.find((r) => r.id === id)!;
    const at = async (id: string, action: string) => (await eventsOf(id)).findLast((e) => e.action === action)!.occurred_at.toISOString();
    const [request] = await svc.sql<{ requested_at: Date; deadline: Date; decided_at: Date; ends_at: Date }>('SELECT requested_at, deadline, decided_at, ends_at FROM approval_requests WHERE id = $1', [loaderRequest]);
    const [holdRow] = await svc.sql<{ created_at: Date; decided_at: Date }>('SELECT created_at, decided_at FROM deprovision_holds WHERE id = $1', [hold!.id]);

    expect(loader).toEqual({
      id: loaderGrant,
      connector: 'warehouse',
      entitlement: `role:${downstream.roles['loader']}`,
      state: 'revoked',
      ended: true,
      userName,
      rules: [{ rule: 0, ruleName: 'Partner loaders', package: 'loader', group: { id: loaders, displayName: 'Partner Loaders' } }],
      packages: ['loader'],
      policyVersion: 1,
      requestedAt: row(loaderGrant).created_at.toISOString(),
      startedAt: row(loaderGrant).starts_at.toISOString(),
      endsAt: laterEnd.toISOString(),
      endBound: 'user',
      heldAt: await at(loaderGrant, 'grant.held'),
      revokeReason: 'deactivated',
      revokeDecidedAt: await at(loaderGrant, 'grant.revoking'),
      revokedAt: await at(loaderGrant, 'grant.revoked'),
      failedAt: null,
      lastError: null,
      approvals: [
        expect.objectContaining({
          id: loaderRequest,
          package: 'loader',
          // Closed once the user no longer needed the access it allowed.
          state: 'closed',
          stateSince: await at(loaderRequest, 'approval.closed'),
          policyVersion: 1,
          approvers: { routes: ['sponsor', 'tenant'], sponsor: INTAKE.sponsor, tenant: ['lead@globex.example'], msp: [] },
          requestedAt: request!.requested_at.toISOString(),
          deadline: request!.deadline.toISOString(),
          decidedBy: INTAKE.sponsor,
          decidedAs: 'sponsor',
          decidedAt: request!.decided_at.toISOString(),
          decisionReason: 'quarterly load',
          endsAt: request!.ends_at.toISOString(),
        }),
      ],
      exception: null,
      hold: { id: hold!.id, state: 'released', reason: 'deactivated', createdAt: holdRow!.created_at.toISOString(), decidedBy: 'ops@msp.example', decidedAt: holdRow!.decided_at.toISOString(), decisionReason: 'confirmed leaver' },
      timeline: (await eventsOf(loaderGrant)).map((e) => ({ seq: e.seq, at: e.occurred_at.toISOString(), action: e.action, actor: e.actor, detail: expect.any(Object) })),
    });
    expect(loader.timeline.map((e) => e.action)).toEqual(['grant.requested', 'grant.activated', 'grant.extended', 'grant.held', 'grant.revoking', 'grant.revoked']);
    expect(loader.timeline[2]!.detail).toEqual(expect.objectContaining({ endsAt: laterEnd.toISOString(), endBound: 'user' }));
    expect(loader.approvals[0]!.timeline.map((e) => [e.action, e.actor])).toEqual([
      ['approval.requested', 'system:reconcile'],
      ['approval.approved', `approver:${INTAKE.sponsor}`],
      ['approval.closed', 'system:reconcile'],
    ]);

    expect(analyst).toEqual(
      expect.objectContaining({
        state: 'revoked',
        rules: [{ rule: 1, ruleName: 'Partner analysts', package: 'analyst', group: { id: analysts, displayName: 'Partner Analysts' } }],
        approvals: [],
        hold: null,
        startedAt: row(analystGrant).starts_at.toISOString(),
        endsAt: analystEnd.toISOString(),
        endBound: 'user',
        revokeReason: 'expired',
        revokeDecidedAt: await at(analystGrant, 'grant.revoking'),
        revokedAt: await at(analystGrant, 'grant.revoked'),
      }),
    );
    expect(analyst.timeline.map((e) => e.action)).toEqual(['grant.requested', 'grant.activated', 'grant.extended', 'grant.revoking', 'grant.revoked']);

    const [denial] = await svc.sql<{ decided_at: Date }>('SELECT decided_at FROM approval_requests WHERE id = $1', [exporterRequest]);
    expect(user.requestsWithoutGrant).toEqual([
      expect.objectContaining({
        id: exporterRequest,
        package: 'exporter',
        state: 'denied',
        stateSince: denial!.decided_at.toISOString(),
        rules: [{ rule: 2, ruleName: 'Partner exporters', package: 'exporter', group: { id: exporters, displayName: 'Partner Exporters' } }],
        decidedBy: 'lead@globex.example',
        decidedAs: 'tenant',
        decidedAt: denial!.decided_at.toISOString(),
        decisionReason: 'no business need',
        endsAt: null,
      }),
    ]);
    expect(user.exceptionsWithoutGrant).toEqual([]);
    expect(user.holdsWithoutGrant).toEqual([]);
    expect(report.totals).toEqual({ users: 1, grants: 2, grantsNotEnded: 0, requestsWithoutGrant: 1, exceptionsWithoutGrant: 0 });

    // ── The same as text, for a person ──
    const text = await cli(['evidence', t.slug, '--user', userName]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const iso = (d: Date | string) => new Date(d).toISOString();
    expect(lines).toEqual(
      expect.arrayContaining([
        `Access evidence for tenant ${t.slug} (${t.slug})`,
        `Scope: user "${userName}"`,
        `${userName}  (user ${audrey}, deactivated in the IdP)`,
        `  Grant warehouse role:${downstream.roles['loader']} [revoked]  (grant ${loaderGrant})`,
        `    Status:     ended ${loader.revokedAt}`,
        `    Why:        rules[0] "Partner loaders" → package loader, via group "Partner Loaders" (${loaders})`,
        `    Policy:     version 1`,
        `    Requested:  ${loader.requestedAt}`,
        `    Approved:   by ${INTAKE.sponsor} (as sponsor) at ${iso(request!.decided_at)}, reason "quarterly load"`,
        `    Started:    ${loader.startedAt} (in place downstream)`,
        `    End date:   ${laterEnd.toISOString()}, set by the user's access end date from the IdP`,
        `    Brake:      held ${loader.heldAt} under hold ${hold!.id}: deactivated (the user was deactivated in the IdP)`,
        `                released by ops@msp.example at ${iso(holdRow!.decided_at)}, reason "confirmed leaver": the access was to be revoked`,
        `    Ended:      deactivated (the user was deactivated in the IdP)`,
        `                revocation decided ${loader.revokeDecidedAt}, removed downstream ${loader.revokedAt}`,
        `                ${loader.timeline[2]!.at}  extended: now ends ${laterEnd.toISOString()}, set by the user's access end date from the IdP`,
        `  Grant warehouse role:${downstream.roles['analyst']} [revoked]  (grant ${analystGrant})`,
        `    Ended:      expired (it reached its end date)`,
        `    End date:   ${analystEnd.toISOString()}, set by the user's access end date from the IdP`,
        `  Request for package exporter [denied]  (request ${exporterRequest})`,
        `    Outcome:    denied by lead@globex.example (as tenant) at ${iso(denial!.decided_at)}, reason "no business need"; no access was granted under it`,
        '1 user, 2 grants (0 not ended), 1 request that never became access.',
      ]),
    );
    // Grants in the order they were requested: the analyst grant came first.
    expect(lines.findIndex((l) => l.includes(analystGrant))).toBeLessThan(lines.findIndex((l) => l.includes(loaderGrant)));

    // ── The whole tenant: every user with something on record, by name, with Otto's expired request ──
    const all = JSON.parse((await cli(['evidence', t.slug, '--json'])).stdout) as Report;
    expect(all.user).toBeNull();
    expect(all.users.map((u) => u.userName)).toEqual([userName, 'otto.other@partner.example']);
    expect(all.users[1]!.grants.map((g) => [g.state, g.revokeReason])).toEqual([['revoked', 'deactivated']]);
    expect(all.users[1]!.requestsWithoutGrant).toEqual([
      expect.objectContaining({ id: ottoRequest, state: 'expired', decidedBy: null, stateSince: await at(ottoRequest, 'approval.expired') }),
    ]);
    const allText = (await cli(['evidence', t.slug])).stdout;
    expect(allText).toContain(`    Outcome:    expired: nobody decided by the deadline `);
    expect(allText.indexOf(userName)).toBeLessThan(allText.indexOf('otto.other@partner.example'));
  });

  it('says a live grant is still active, and when it ends', async () => {
    const id = await scim.createUser('lena.live@partner.example');
    await scim.members(groups.analysts, 'add', [id]);
    await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']));
    const [grant] = await svc.sql<{ ends_at: Date }>('SELECT ends_at FROM grants WHERE user_id = $1', [id]);

    const text = await cli(['evidence', t.slug, '--user', 'lena.live@partner.example']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')).toContain(`    Status:     still active, ends ${grant!.ends_at.toISOString()}`);
    const json = JSON.parse((await cli(['evidence', t.slug, '--user', 'lena.live@partner.example', '--json'])).stdout) as Report;
    expect(json.users[0]!.grants[0]).toEqual(expect.objectContaining({ state: 'active', ended: false, endsAt: grant!.ends_at.toISOString(), revokeReason: null, revokedAt: null }));
    expect(json.totals).toEqual(expect.objectContaining({ grants: 1, grantsNotEnded: 1 }));
  });

  it('refuses a user it knows nothing of: exit status 3 and a message naming the user', async () => {
    const result = await cli(['evidence', t.slug, '--user', 'nobody@nowhere.example']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`lanyard: tenant "${t.slug}" has no user "nobody@nowhere.example" and no access recorded under that name\n`);
    const json = await cli(['evidence', t.slug, '--user', 'nobody@nowhere.example', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'not_found', message: expect.stringContaining('nobody@nowhere.example') } });
    expect((await cli(['evidence', 'no-such-tenant'])).code).toBe(3);
  });

  it('says so when nothing is on record: a tenant without grants, and a user without any', async () => {
    const empty = await svc.tenant();
    const result = await cli(['evidence', empty.slug]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`No access recorded for tenant ${empty.slug}: no grants, requests, emergency access or holds.`);
    const json = JSON.parse((await cli(['evidence', empty.slug, '--json'])).stdout) as Report;
    expect(json.users).toEqual([]);
    expect(json.totals).toEqual({ users: 0, grants: 0, grantsNotEnded: 0, requestsWithoutGrant: 0, exceptionsWithoutGrant: 0 });

    // A user the IdP pushed who holds nothing is known, so not an error, but has nothing to show.
    await idp(svc, empty).createUser('nina.nothing@partner.example');
    const user = await cli(['evidence', empty.slug, '--user', 'nina.nothing@partner.example']);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout.trimEnd().split('\n').at(-1)).toBe(`No access recorded for user "nina.nothing@partner.example" in tenant ${empty.slug}.`);
  });
});
