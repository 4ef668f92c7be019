import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANYARD_ACCESS } from '../../src/scim/schemas.js';
import { runCli } from '../helpers/cli.js';
import type { DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { auditActions, grantsOf, INTAKE, startWarehouseTenant, type WarehouseTenant } from '../helpers/provisioning-tenant.js';
import type { TestService, TestTenant } from '../helpers/test-service.js';

/**
 * Approvals and emergency access end to end: requests made by the pipeline, decided through the real CLI,
 * provisioned into a real PostgreSQL downstream.
 */
let fixture: WarehouseTenant | undefined;
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: WarehouseTenant['scim'];
let loaders: string;
let cliEnv: Record<string, string>;

const POLICY = (roles: Record<string, string>) => `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  loader:
    entitlements:
      warehouse: [role:${roles['loader']}]
    maxDuration: P30D
    approval: required
  admin:
    entitlements:
      warehouse: [role:${roles['admin']}]
    maxDuration: P7D
approvals:
  approvers: [sponsor, tenant]
  tenantApprovers: [lead@globex.example, self.approver@globex.example]
  deadline: P3D
emergency:
  packages: [admin]
  maxDuration: PT4H
rules:
  - when: { group: Partner Loaders }
    grant: [loader]
`;

async function requestFor(userId: string) {
  return eventually(async () => {
    const rows = await svc.sql<{ id: string; state: string; approvers: unknown }>("SELECT id, state, approvers FROM approval_requests WHERE user_id = $1 ORDER BY requested_at DESC", [userId]);
    expect(rows[0]?.state).toBe('pending');
    return rows[0]!;
  });
}

const cli = (args: string[]) => runCli(args, cliEnv);

beforeAll(async () => {
  fixture = await startWarehouseTenant(['loader', 'admin'], POLICY);
  ({ svc, t, downstream, scim } = fixture);
  cliEnv = svc.cliEnv();
  loaders = await scim.createGroup('Partner Loaders');
});
afterAll(() => fixture?.close());

describe('approvals', () => {
  it('asks instead of granting; the sponsor approves through the CLI; the user is provisioned until the approved end', async () => {
    const userName = 'ann.approve@partner.example';
    const id = await scim.createUser(userName);
    await scim.members(loaders, 'add', [id]);
    const request = await requestFor(id);
    expect(request.approvers).toEqual({ routes: ['sponsor', 'tenant'], sponsor: INTAKE.sponsor, tenant: ['lead@globex.example', 'self.approver@globex.example'], msp: [] });
    expect(await grantsOf(svc, t, id)).toEqual([]);

    const listed = await cli(['approvals', 'list', t.slug, '--pending', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: request.id, user: userName, package: 'loader', state: 'pending' })]);

    const approved = await cli(['approvals', 'approve', request.id, '--by', INTAKE.sponsor, '--reason', 'quarterly load', '--json']);
    expect(approved.code, approved.stderr).toBe(0);
    const decided = JSON.parse(approved.stdout) as { endsAt: string; decidedBy: string };
    expect(decided.decidedBy).toBe(INTAKE.sponsor);
    await eventually(async () => {
      expect(await downstream.grantsOf(id, userName)).toEqual([downstream.roles['loader']]);
      const [grant] = await svc.sql<{ state: string; approval_id: string; end_bound: string; ends_at: Date }>('SELECT state, approval_id, end_bound, ends_at FROM grants WHERE user_id = $1', [id]);
      expect(grant).toEqual({ state: 'active', approval_id: request.id, end_bound: 'approval', ends_at: new Date(decided.endsAt) });
    });
    expect(await auditActions(svc, t, request.id)).toEqual(['approval.requested', 'approval.approved']);
    const [event] = await svc.sql<{ actor: string; entry: string }>("SELECT actor, entry FROM audit_events WHERE resource_id = $1 AND action = 'approval.approved'", [request.id]);
    expect(event!.actor).toBe(`approver:${INTAKE.sponsor}`);

    // Leaving the group ends the access and closes the approval; joining again asks again.
    await scim.members(loaders, 'remove', [id]);
    await eventually(async () => {
      expect(await downstream.grantsOf(id, userName)).toEqual([]);
      expect(await svc.sql('SELECT state FROM approval_requests WHERE id = $1', [request.id])).toEqual([{ state: 'closed' }]);
    });
    await scim.members(loaders, 'add', [id]);
    const again = await requestFor(id);
    expect(again.id).not.toBe(request.id);
  });

  it('asks for a renewal before an approval ends; a renewal approved in time extends the access', async () => {
    const userName = 'rene.renew@partner.example';
    const id = await scim.createUser(userName);
    await scim.members(loaders, 'add', [id]);
    const first = await requestFor(id);
    expect((await cli(['approvals', 'approve', first.id, '--by', 'lead@globex.example'])).code).toBe(0);
    await eventually(async () => expect(await downstream.grantsOf(id, userName)).toEqual([downstream.roles['loader']]));
    // Two days before the end, inside the approvers' three-day deadline.
    const soon = new Date(Date.now() + 2 * 86_400_000);
    await svc.sql('UPDATE approval_requests SET ends_at = $2 WHERE id = $1', [first.id, soon]);
    await svc.sql("UPDATE grants SET ends_at = $2 WHERE user_id = $1 AND state = 'active'", [id, soon]);
    await svc.runtime.policies.apply(t.slug, POLICY(downstream.roles), 'operator:test');
    const renewal = await requestFor(id);
    expect(renewal.id).not.toBe(first.id);
    const approved = await cli(['approvals', 'approve', renewal.id, '--by', INTAKE.sponsor, '--json']);
    expect(approved.code, approved.stderr).toBe(0);
    const endsAt = new Date((JSON.parse(approved.stdout) as { endsAt: string }).endsAt);
    await eventually(async () =>
      expect(await svc.sql("SELECT state, approval_id, ends_at FROM grants WHERE user_id = $1", [id])).toEqual([{ state: 'active', approval_id: renewal.id, ends_at: endsAt }]),
    );
    const [grant] = await grantsOf(svc, t, id);
    expect(await auditActions(svc, t, grant!.id)).toEqual(['grant.requested', 'grant.activated', 'grant.extended']);
  });

  it('refuses self-approval and approvers off the request’s routes, and records nothing for them', async () => {
    const userName = 'self.approver@globex.example';
    const id = await scim.createUser(userName);
    await scim.members(loaders, 'add', [id]);
    const request = await requestFor(id);
    const self = await cli(['approvals', 'approve', request.id, '--by', 'Self.Approver@globex.example']);
    expect(self.code).toBe(6);
    expect(self.stderr).toMatch(/own access/);
    const stranger = await cli(['approvals', 'approve', request.id, '--by', 'mallory@elsewhere.example']);
    expect(stranger.code).toBe(6);
    expect(stranger.stderr).toMatch(/not an approver.*sponsor: ada@acme\.example/);
    expect(await svc.sql('SELECT state, decided_by FROM approval_requests WHERE id = $1', [request.id])).toEqual([{ state: 'pending', decided_by: null }]);
    expect(await auditActions(svc, t, request.id)).toEqual(['approval.requested']);
  });

  it('denies with a reason: nothing is granted, and the user is not asked about again while the need lasts', async () => {
    const userName = 'dan.deny@partner.example';
    const id = await scim.createUser(userName);
    await scim.members(loaders, 'add', [id]);
    const request = await requestFor(id);
    expect((await cli(['approvals', 'deny', request.id, '--by', 'lead@globex.example'])).code).not.toBe(0);
    const denied = await cli(['approvals', 'deny', request.id, '--by', 'lead@globex.example', '--reason', 'no business need']);
    expect(denied.code, denied.stderr).toBe(0);
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE user_id = $1', [id])).toEqual([]));
    expect(await svc.sql('SELECT state, decided_by, decision_reason FROM approval_requests WHERE user_id = $1', [id])).toEqual([
      { state: 'denied', decided_by: 'lead@globex.example', decision_reason: 'no business need' },
    ]);
    expect(await grantsOf(svc, t, id)).toEqual([]);
    expect(await downstream.grantsOf(id, userName)).toBeUndefined();
  });

  it('expires a request nobody decided by its deadline: nothing granted, the reason recorded', async () => {
    const id = await scim.createUser('eve.expire@partner.example');
    await scim.members(loaders, 'add', [id]);
    const request = await requestFor(id);
    await svc.sql("UPDATE approval_requests SET deadline = now() - interval '1 minute' WHERE id = $1", [request.id]);
    expect((await svc.workers!.schedules.runNow('lifecycle-due'))['marked']).toBeGreaterThanOrEqual(1);
    await eventually(async () => expect(await svc.sql('SELECT state FROM approval_requests WHERE user_id = $1', [id])).toEqual([{ state: 'expired' }]));
    expect(await auditActions(svc, t, request.id)).toEqual(['approval.requested', 'approval.expired']);
    expect((await cli(['approvals', 'approve', request.id, '--by', 'lead@globex.example'])).code).toBe(4);
    expect(await grantsOf(svc, t, id)).toEqual([]);
  });

  it('cancels a pending request when the need goes away', async () => {
    const id = await scim.createUser('carl.cancel@partner.example');
    await scim.members(loaders, 'add', [id]);
    const request = await requestFor(id);
    await scim.members(loaders, 'remove', [id]);
    await eventually(async () => expect(await svc.sql('SELECT state FROM approval_requests WHERE id = $1', [request.id])).toEqual([{ state: 'cancelled' }]));
  });
});

describe('emergency access', () => {
  it('grants a listed package for its hours, records who and why, lists it for review, and lets it expire', async () => {
    const userName = 'erin.emergency@partner.example';
    const id = await scim.createUser(userName, { [LANYARD_ACCESS]: INTAKE });
    const refused = await cli(['exceptions', 'grant', t.slug, userName, 'loader', '--by', 'oncall', '--reason', 'outage']);
    expect(refused.code).toBe(6);
    const tooLong = await cli(['exceptions', 'grant', t.slug, userName, 'admin', '--by', 'oncall', '--reason', 'outage', '--for', '5h']);
    expect(tooLong.code).toBe(2);
    const granted = await cli(['exceptions', 'grant', t.slug, userName, 'admin', '--by', 'oncall@msp.example', '--reason', 'incident 4711', '--for', '2h', '--json']);
    expect(granted.code, granted.stderr).toBe(0);
    const exception = JSON.parse(granted.stdout) as { id: string; endsAt: string };
    await eventually(async () => expect(await downstream.grantsOf(id, userName)).toEqual([downstream.roles['admin']]));
    const [grant] = await svc.sql<{ end_bound: string; ends_at: Date; exception_id: string }>('SELECT end_bound, ends_at, exception_id FROM grants WHERE user_id = $1', [id]);
    expect(grant).toEqual({ end_bound: 'exception', ends_at: new Date(exception.endsAt), exception_id: exception.id });

    const listed = JSON.parse((await cli(['exceptions', 'list', t.slug, '--active', '--json'])).stdout) as { id: string; grantedBy: string; reason: string }[];
    expect(listed).toEqual([expect.objectContaining({ id: exception.id, grantedBy: 'oncall@msp.example', reason: 'incident 4711', active: true })]);

    // Its hours pass: the access ends through the lifecycle schedule, and the exception stays listed.
    await svc.sql("UPDATE access_exceptions SET starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour' WHERE id = $1", [exception.id]);
    await svc.sql("UPDATE grants SET ends_at = now() - interval '1 hour' WHERE exception_id = $1", [exception.id]);
    await svc.workers!.schedules.runNow('lifecycle-due');
    await eventually(async () => {
      expect(await downstream.grantsOf(id, userName)).toEqual([]);
      expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'expired']]);
    });
    const all = JSON.parse((await cli(['exceptions', 'list', t.slug, '--json'])).stdout) as { id: string; active: boolean }[];
    expect(all).toEqual([expect.objectContaining({ id: exception.id, active: false })]);
  });
});
