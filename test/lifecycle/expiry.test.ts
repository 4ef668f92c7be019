import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
import { runCli } from '../helpers/cli.js';
import type { DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { analystPolicy, auditActions, grantsOf, idp, INTAKE, startWarehouseTenant, type WarehouseTenant } from '../helpers/provisioning-tenant.js';
import type { TestService, TestTenant } from '../helpers/test-service.js';

/**
 * Access that ends by itself, against a real PostgreSQL downstream. Time is moved, not waited for: a
 * grant's end (and start) is set in the past through the owner connection, then the lifecycle schedule is
 * run at once, exactly as BullMQ runs it on its timer.
 */
let fixture: WarehouseTenant | undefined;
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: WarehouseTenant['scim'];
let analysts: string;

const POLICY = (role: string) => analystPolicy(role, { intake: true });

async function onboard(userName: string, intake: Record<string, string> = INTAKE): Promise<string> {
  const id = await scim.createUser(userName, { [LANYARD_ACCESS]: intake });
  await scim.members(analysts, 'add', [id]);
  await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']));
  return id;
}

/** Moves a user's live grant `days` into the past (and the memberships that asked for it): it started then and ended a minute ago. */
async function age(userId: string, days: number): Promise<void> {
  await svc.sql('UPDATE group_members SET added_at = now() - make_interval(days => $3) WHERE tenant_id = $1 AND user_id = $2', [t.id, userId, days]);
  await svc.sql(
    `UPDATE grants SET created_at = now() - make_interval(days => $3), ends_at = now() - interval '1 minute'
      WHERE tenant_id = $1 AND user_id = $2 AND state = 'active'`,
    [t.id, userId, days],
  );
}

const runDue = () => svc.workers!.schedules.runNow('lifecycle-due');

beforeAll(async () => {
  fixture = await startWarehouseTenant(['analyst'], (roles) => POLICY(roles['analyst']!));
  ({ svc, t, downstream, scim } = fixture);
  analysts = await scim.createGroup('Partner Analysts');
});
afterAll(() => fixture?.close());

describe('expiry', () => {
  it('runs as a BullMQ job scheduler', async () => {
    const scheduler = await svc.runtime.queues().connection.exists(`${svc.config.jobs.queuePrefix}:lifecycle:repeat:lifecycle-due`);
    expect(scheduler).toBe(1);
  });

  it('revokes a grant at its end with reason expired, once, and does not grant it again until the user joins again', async () => {
    const userName = 'exp.one@globex.example';
    const id = await onboard(userName);
    const [grant] = await grantsOf(svc, t, id);
    await age(id, 91);

    expect(await runDue()).toEqual({ marked: 1 });
    await eventually(async () => {
      expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'expired']]);
      expect(await downstream.grantsOf(id, userName)).toEqual([]);
    });
    // Nothing is due any more: a second run (or a run that was missed and caught up) changes nothing.
    expect(await runDue()).toEqual({ marked: 0 });
    expect(await auditActions(svc, t, grant!.id)).toEqual(['grant.requested', 'grant.activated', 'grant.revoking', 'grant.revoked']);

    // Still in the group, but a package's maximum duration does not renew itself: an unrelated change
    // reconciles the user and grants nothing.
    await svc.http.patch(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Analyst' }] }).expect(204);
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE user_id = $1', [id])).toEqual([]));
    expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['revoked']);

    // Leaving and joining the group again is a new request: a new grant, the history keeps both.
    await scim.members(analysts, 'remove', [id]);
    await scim.members(analysts, 'add', [id]);
    await eventually(async () => {
      expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['revoked', 'active']);
      expect(await downstream.grantsOf(id, userName)).toEqual([downstream.roles['analyst']]);
    });
  });

  it('catches up on every grant that came due while no run happened', async () => {
    const a = await onboard('exp.two@globex.example');
    const b = await onboard('exp.three@globex.example');
    await age(a, 95);
    await age(b, 91);
    expect(await runDue()).toEqual({ marked: 2 });
    await eventually(async () => {
      for (const id of [a, b]) expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'expired']]);
    });
  });

  it('ends access at the user’s end date, extends it only when the IdP pushes a later one, and shortens it for an earlier one', async () => {
    const id = await onboard('exp.four@globex.example', { ...INTAKE, accessEndDate: '2027-01-15T00:00:00Z' });
    const ends = async () => (await svc.sql<{ ends_at: Date; end_bound: string }>("SELECT ends_at, end_bound FROM grants WHERE user_id = $1 AND state = 'active'", [id]))[0];
    expect(await ends()).toEqual({ ends_at: new Date('2027-01-15T00:00:00Z'), end_bound: 'user' });
    const setEnd = (date: string) =>
      svc.http.patch(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${LANYARD_ACCESS}:accessEndDate`, value: date }] }).expect(204);

    await setEnd('2027-02-01T00:00:00Z');
    await eventually(async () => expect(await ends()).toEqual({ ends_at: new Date('2027-02-01T00:00:00Z'), end_bound: 'user' }));
    await setEnd('2026-12-20T00:00:00Z');
    await eventually(async () => expect(await ends()).toEqual({ ends_at: new Date('2026-12-20T00:00:00Z'), end_bound: 'user' }));
    const [grant] = await grantsOf(svc, t, id);
    expect(await auditActions(svc, t, grant!.id)).toEqual(['grant.requested', 'grant.activated', 'grant.extended', 'grant.shortened']);
  });

  it('never lets a grant outlive the tenant’s contract', async () => {
    const id = await onboard('exp.five@globex.example');
    const contract = new Date(Date.now() + 10 * 86_400_000);
    await svc.runtime.tenants.setContractEnd(t.slug, contract, 'operator:test');
    await eventually(async () =>
      expect(await svc.sql("SELECT ends_at, end_bound FROM grants WHERE user_id = $1 AND state = 'active'", [id])).toEqual([{ ends_at: contract, end_bound: 'contract' }]),
    );
    // Once the contract has ended, nothing is held: the grant expires.
    await svc.runtime.tenants.setContractEnd(t.slug, new Date(Date.now() - 1000), 'operator:test');
    await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'expired']]));
    await svc.runtime.tenants.setContractEnd(t.slug, null, 'operator:test');
  });
});

describe('tenant offboarding', () => {
  it('revokes every grant downstream through the pipeline, stops the IdP’s tokens, and keeps every record', async () => {
    const u = await svc.tenant();
    const uScim = idp(svc, u);
    await svc.runtime.connectors.add(u.slug, { name: 'warehouse', kind: 'postgres', config: downstream.config }, 'operator:test');
    await svc.runtime.policies.apply(u.slug, POLICY(downstream.roles['analyst']!), 'operator:test');
    const ids = [await uScim.createUser('off.one@client.example'), await uScim.createUser('off.two@client.example')];
    await uScim.createGroup('Partner Analysts', ids);
    await eventually(async () => expect((await grantsOf(svc, u)).map((g) => g.state)).toEqual(['active', 'active']));

    const result = await runCli(['tenant', 'offboard', u.slug, '--json'], svc.cliEnv());
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ slug: u.slug, status: 'offboarded', tokensRevoked: 1, users: 2 });
    await eventually(async () => {
      expect((await grantsOf(svc, u)).map((g) => [g.state, g.revoke_reason])).toEqual([
        ['revoked', 'offboarded'],
        ['revoked', 'offboarded'],
      ]);
      expect(await downstream.grantsOf(ids[0]!, 'off.one@client.example')).toEqual([]);
      expect(await svc.sql("SELECT state FROM connector_accounts WHERE tenant_id = $1 AND state <> 'disabled'", [u.id])).toEqual([]);
    });
    // The IdP is shut out; users, grants and the audit trail stay.
    expect((await svc.http.get(`${u.path}/Users`).set(u.auth)).status).toBe(401);
    expect(await svc.sql('SELECT count(*)::int AS n FROM users WHERE tenant_id = $1', [u.id])).toEqual([{ n: 2 }]);
    expect(await auditActions(svc, u, u.id)).toEqual(['tenant.created', 'tenant.offboarded']);
    expect((await runCli(['tenant', 'offboard', u.slug], svc.cliEnv())).code).toBe(4);
  });
});
