import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { analystPolicy, auditActions, grantsOf, startWarehouseTenant, type WarehouseTenant } from '../helpers/provisioning-tenant.js';
import type { TestService, TestTenant } from '../helpers/test-service.js';

/**
 * The mass-deprovision brake against a real PostgreSQL downstream: past the threshold, deactivations are
 * answered 2xx but held, their access still in place, until an operator releases or rejects them.
 */
let fixture: WarehouseTenant | undefined;
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: WarehouseTenant['scim'];

const POLICY = (role: string) => analystPolicy(role, { extra: 'brake:\n  window: PT1H\n  minimum: 3\n  percent: 0\n' });

beforeAll(async () => {
  fixture = await startWarehouseTenant(['analyst'], (roles) => POLICY(roles['analyst']!));
  ({ svc, t, downstream, scim } = fixture);
});
afterAll(() => fixture?.close());

describe('mass-deprovision brake', () => {
  it('lets deprovisions through up to the threshold, holds the rest with their access in place, and waits for an operator', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `brake${i}@partner.example`);
    const ids: string[] = [];
    for (const name of names) ids.push(await scim.createUser(name));
    await scim.createGroup('Partner Analysts', ids);
    await eventually(async () => expect((await grantsOf(svc, t)).filter((g) => g.state === 'active')).toHaveLength(5));

    // The IdP deactivates everyone at once; every answer is 2xx.
    await Promise.all(ids.map((id) => scim.setActive(id, false)));
    await eventually(async () => {
      const states = (await grantsOf(svc, t)).map((g) => g.state).sort();
      expect(states).toEqual(['held', 'held', 'revoked', 'revoked', 'revoked']);
    });
    const held = (await grantsOf(svc, t)).filter((g) => g.state === 'held');
    for (const g of held) {
      const i = ids.indexOf(g.user_id);
      expect(await downstream.grantsOf(ids[i]!, names[i]!)).toEqual([downstream.roles['analyst']]);
    }

    const listed = await runCli(['holds', 'list', t.slug, '--pending', '--json'], svc.cliEnv());
    expect(listed.code, listed.stderr).toBe(0);
    const holds = JSON.parse(listed.stdout) as { id: string; user: string; reason: string }[];
    expect(holds.map((h) => h.reason)).toEqual(['deactivated', 'deactivated']);
    expect(await auditActions(svc, t, held[0]!.id)).toEqual(['grant.requested', 'grant.activated', 'grant.held']);

    // Released: revoked now. Rejected: stays, also when the user is reconciled again, until the IdP changes it.
    const [release, reject] = [holds[0]!, holds[1]!];
    const released = await runCli(['holds', 'release', release.id, '--by', 'ops@msp.example'], svc.cliEnv());
    expect(released.code, released.stderr).toBe(0);
    expect((await runCli(['holds', 'reject', reject.id, '--by', 'ops@msp.example'], svc.cliEnv())).code).toBe(2);
    expect((await runCli(['holds', 'reject', reject.id, '--by', 'ops@msp.example', '--reason', 'IdP sync error'], svc.cliEnv())).code).toBe(0);
    const releasedUser = ids[names.indexOf(release.user)]!;
    const rejectedUser = ids[names.indexOf(reject.user)]!;
    await eventually(async () => {
      expect((await grantsOf(svc, t, releasedUser)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'deactivated']]);
      expect(await downstream.grantsOf(releasedUser, release.user)).toEqual([]);
      // Given back, it did not end: no revoke reason is left on it.
      expect((await grantsOf(svc, t, rejectedUser)).map((g) => [g.state, g.revoke_reason])).toEqual([['active', null]]);
    });
    await svc.runtime.policies.apply(t.slug, POLICY(downstream.roles['analyst']!), 'operator:test');
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE tenant_id = $1', [t.id])).toEqual([]));
    expect((await grantsOf(svc, t, rejectedUser)).map((g) => g.state)).toEqual(['active']);
    expect(await downstream.grantsOf(rejectedUser, reject.user)).toEqual([downstream.roles['analyst']]);
    expect(await svc.sql('SELECT state, decided_by, decision_reason FROM deprovision_holds WHERE id = $1', [reject.id])).toEqual([
      { state: 'rejected', decided_by: 'ops@msp.example', decision_reason: 'IdP sync error' },
    ]);
  });

  it('puts held access back when the IdP takes the deprovision back', async () => {
    const id = await scim.createUser('brake.back@partner.example');
    const group = (await svc.sql<{ id: string }>("SELECT id FROM groups WHERE tenant_id = $1 AND display_name = 'Partner Analysts'", [t.id]))[0]!.id;
    await scim.members(group, 'add', [id]);
    await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']));
    // The window is still over its threshold: this deactivation is held too.
    await scim.setActive(id, false);
    await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['held']));
    await scim.setActive(id, true);
    await eventually(async () => {
      expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']);
      expect(await svc.sql('SELECT state FROM deprovision_holds WHERE user_id = $1', [id])).toEqual([{ state: 'withdrawn' }]);
    });
  });
});
