import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginRoleName } from '../../connectors/postgres/client.js';
import type { DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { analystPolicy, grantsOf, startWarehouseTenant, type WarehouseTenant } from '../helpers/provisioning-tenant.js';
import type { TestService, TestTenant } from '../helpers/test-service.js';

/**
 * The inactivity rule against a real PostgreSQL downstream, whose connector reports activity from the
 * login role's open sessions. Time is moved by dating the grants back; the check runs as its schedule does.
 */
let fixture: WarehouseTenant | undefined;
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: WarehouseTenant['scim'];
let analysts: string;

const POLICY = (role: string) => analystPolicy(role, { intake: true, maxDuration: 'P1Y', extra: 'inactivity:\n  after: P30D\n' });

async function onboard(userName: string): Promise<string> {
  const id = await scim.createUser(userName);
  await scim.members(analysts, 'add', [id]);
  await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']));
  // In place for 40 days, as far as Lanyard knows.
  await svc.sql("UPDATE grants SET starts_at = now() - interval '40 days', created_at = now() - interval '40 days' WHERE user_id = $1", [id]);
  return id;
}

async function session(userId: string, userName: string): Promise<pg.Client> {
  const url = new URL(downstream.config.url);
  url.username = loginRoleName(downstream.config.rolePrefix, userId, userName);
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => {});
  await client.connect();
  await client.query('SELECT 1');
  return client;
}

const check = () => svc.workers!.schedules.runNow('inactivity-check');

beforeAll(async () => {
  fixture = await startWarehouseTenant(['analyst'], (roles) => POLICY(roles['analyst']!));
  ({ svc, t, downstream, scim } = fixture);
  analysts = await scim.createGroup('Partner Analysts');
});
afterAll(() => fixture?.close());

describe('inactivity', () => {
  it('revokes access unused for the period (reason inactive), keeps access in use, and does not grant it back by itself', async () => {
    const idle = await onboard('idle@partner.example');
    const busyName = 'busy@partner.example';
    const busy = await onboard(busyName);
    const open = await session(busy, busyName);
    try {
      expect(await check()).toMatchObject({ checked: 2, failed: 0, marked: 1 });
      await eventually(async () => expect((await grantsOf(svc, t, idle)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'inactive']]));
      expect((await grantsOf(svc, t, busy)).map((g) => g.state)).toEqual(['active']);
      const [seen] = await svc.sql<{ last_activity_at: Date | null }>('SELECT last_activity_at FROM connector_accounts WHERE user_id = $1', [busy]);
      expect(Date.now() - seen!.last_activity_at!.getTime()).toBeLessThan(60_000);
    } finally {
      await open.end();
    }

    // The busy user's session has ended: the latest activity seen is kept, so the access stays.
    await svc.sql('UPDATE connector_accounts SET activity_checked_at = NULL WHERE user_id = $1', [busy]);
    expect(await check()).toMatchObject({ checked: 1, marked: 0 });
    expect((await grantsOf(svc, t, busy)).map((g) => g.state)).toEqual(['active']);

    // Still in the group, the idle user gets nothing back until a renewal (joining again).
    await svc.runtime.policies.apply(t.slug, POLICY(downstream.roles['analyst']!), 'operator:test');
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE tenant_id = $1', [t.id])).toEqual([]));
    expect((await grantsOf(svc, t, idle)).map((g) => g.state)).toEqual(['revoked']);
  });
});
