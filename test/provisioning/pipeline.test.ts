import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginRoleName } from '../../connectors/postgres/client.js';
import { reconcileUser } from '../../src/provisioning/reconcile.js';
import { databaseUrl } from '../helpers/databases.js';
import { createDownstreamPostgres, type DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { auditActions, grantsOf, idp } from '../helpers/provisioning-tenant.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * The provisioning pipeline end to end inside one process, as `lanyard start` runs it: SCIM writes mark
 * users, reconcile jobs turn policy into grant rows, connector jobs carry them out in a real PostgreSQL
 * downstream, and every transition is recorded.
 */
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: ReturnType<typeof idp>;
let analysts: string;

function policy(roles: Record<string, string>): string {
  return `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  analyst:
    entitlements:
      warehouse: [role:${roles['analyst']}]
    maxDuration: P90D
  loader:
    entitlements:
      warehouse: [role:${roles['loader']}]
    maxDuration: P30D
    approval: required
rules:
  - when: { group: Partner Analysts }
    grant: [analyst]
  - when: { group: Partner Loaders }
    grant: [loader]
`;
}

beforeAll(async () => {
  downstream = await createDownstreamPostgres(['analyst', 'loader']);
  svc = await startTestService({ SWEEP_INTERVAL: '1s', SWEEP_GRACE: '1s', JOB_BACKOFF_BASE: '100ms' }, { workers: true });
  t = await svc.tenant();
  scim = idp(svc, t);
  await svc.runtime.connectors.add(t.slug, { name: 'warehouse', kind: 'postgres', config: downstream.config }, 'operator:test');
  await svc.runtime.policies.apply(t.slug, policy(downstream.roles), 'operator:test');
  analysts = await scim.createGroup('Partner Analysts');
});

afterAll(async () => {
  await svc?.close();
  await downstream?.drop();
});

describe('provisioning pipeline', () => {
  it('grants by group, revokes and disables on deactivation, grants again on re-activation, removes on delete', async () => {
    const userName = 'pat.lee@globex.example';
    const id = await scim.createUser(userName);
    await scim.members(analysts, 'add', [id]);

    const granted = await eventually(async () => {
      const [grant] = await grantsOf(svc, t, id);
      expect(grant).toMatchObject({ connector: 'warehouse', entitlement: `role:${downstream.roles['analyst']}`, state: 'active' });
      expect(grant!.starts_at).not.toBeNull();
      expect(await downstream.login(id, userName)).toEqual({ name: expect.any(String), enabled: true, grants: [downstream.roles['analyst']] });
      return grant!;
    });
    expect(await auditActions(svc, t, granted.id)).toEqual(['grant.requested', 'grant.activated']);

    await scim.setActive(id, false);
    await eventually(async () => {
      expect(await downstream.login(id, userName)).toEqual({ name: expect.any(String), enabled: false, grants: [] });
      expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'deactivated']]);
    });
    expect(await auditActions(svc, t, granted.id)).toEqual(['grant.requested', 'grant.activated', 'grant.revoking', 'grant.revoked']);

    // Re-activation is a new grant by policy: the history keeps both.
    await scim.setActive(id, true);
    await eventually(async () => {
      expect(await downstream.login(id, userName)).toEqual({ name: expect.any(String), enabled: true, grants: [downstream.roles['analyst']] });
      expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['revoked', 'active']);
    });

    await scim.deleteUser(id);
    await eventually(async () => {
      expect(await downstream.login(id, userName)).toBeUndefined();
      expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([
        ['revoked', 'deactivated'],
        ['revoked', 'deleted'],
      ]);
      // Recorded once the role is gone downstream, so looked at until then.
      const [account] = await svc.sql('SELECT state, desired FROM connector_accounts WHERE tenant_id = $1 AND user_id = $2', [t.id, id]);
      expect(account).toEqual({ state: 'removed', desired: 'removed' });
    });
    expect(await auditActions(svc, t, id)).toEqual(expect.arrayContaining(['account.created', 'account.disabled', 'account.enabled', 'account.removed']));
  });

  it('grants nothing for a package that needs approval: a request waits, and nothing reaches the downstream', async () => {
    const userName = 'lou.loader@globex.example';
    const id = await scim.createUser(userName);
    await scim.createGroup('Partner Loaders', [id]);
    await eventually(async () => expect(await svc.sql('SELECT package, state FROM approval_requests WHERE user_id = $1', [id])).toEqual([{ package: expect.any(String), state: 'pending' }]));
    await svc.workers!.sweep();
    expect(await grantsOf(svc, t, id)).toEqual([]);
    expect(await downstream.login(id, userName)).toBeUndefined();
  });

  it('holds a user without intake attributes in quarantine: nothing granted downstream', async () => {
    const userName = 'no.intake@globex.example';
    const id = await scim.createUser(userName, { 'urn:lanyard:scim:schemas:extension:access:1.0:User': { organization: 'Globex' } });
    await scim.members(analysts, 'add', [id]);
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE user_id = $1', [id])).toEqual([]));
    expect(await grantsOf(svc, t, id)).toEqual([]);
    expect(await downstream.login(id, userName)).toBeUndefined();
  });

  /**
   * Holds a reconcile of `userId` inside its transaction: an uncommitted grant row for the same entitlement
   * makes its insert wait on the live-grant index, after it has read the user's groups.
   */
  async function holdingReconcile<T>(userId: string, userName: string, whileHeld: () => Promise<T>): Promise<T> {
    const blocker = new pg.Client({ connectionString: databaseUrl(svc.database.name) });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO grants (tenant_id, user_id, user_name, connector, entitlement, state, reasons) VALUES ($1, $2, $3, 'warehouse', $4, 'provisioning', '[]')`,
        [t.id, userId, userName, `role:${downstream.roles['analyst']}`],
      );
      return await whileHeld();
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  }

  async function reconcileIsWaiting(): Promise<void> {
    await eventually(async () => {
      const waiting = await svc.sql(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO grants%'`, [svc.database.name]);
      expect(waiting).toHaveLength(1);
    });
  }

  async function settled(userId: string): Promise<void> {
    await eventually(async () => expect(await svc.sql('SELECT 1 FROM reconcile_outbox WHERE user_id = $1', [userId])).toEqual([]));
  }

  it('reconciles a change that lands while the user is being reconciled, after it', async () => {
    const userName = 'mid.flight@globex.example';
    const id = await scim.createUser(userName);
    await settled(id);

    let removal: Promise<void> | undefined;
    await holdingReconcile(id, userName, async () => {
      await scim.members(analysts, 'add', [id]);
      await reconcileIsWaiting();
      // The change arrives mid-reconcile: the user leaves the group again. Its commit waits for the
      // reconcile's, so it is not awaited here.
      removal = scim.members(analysts, 'remove', [id]);
      await new Promise((r) => setTimeout(r, 200));
    });
    await removal;

    // The first reconcile granted from what it had read; the one the change queued takes it away again.
    await eventually(async () => {
      expect((await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason])).toEqual([['revoked', 'policy']]);
      expect((await downstream.login(id, userName))?.grants ?? []).toEqual([]);
    });
    await settled(id);
  });

  it('never runs two reconciles of one user at once', async () => {
    const userName = 'one.at.a.time@globex.example';
    const id = await scim.createUser(userName);
    await settled(id);

    let secondDone = false;
    let second: Promise<void> | undefined;
    await holdingReconcile(id, userName, async () => {
      await scim.members(analysts, 'add', [id]);
      await reconcileIsWaiting();
      // A second reconcile of the same user while the queued one is held: it waits for the first.
      second = reconcileUser(svc.runtime.pool, t.id, id).then(() => {
        secondDone = true;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(secondDone).toBe(false);
    });
    await second;
    await eventually(async () => expect(secondDone).toBe(true));
    await eventually(async () => expect((await grantsOf(svc, t, id)).map((g) => g.state)).toEqual(['active']));
    const grant = (await grantsOf(svc, t, id))[0]!;
    expect(await auditActions(svc, t, grant.id)).toEqual(['grant.requested', 'grant.activated']);
  });

  it('ends with exactly what the last change asks, for users whose membership flips while they are reconciled', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `flip${i}@globex.example`);
    const ids = await Promise.all(names.map((n) => scim.createUser(n)));
    for (let round = 0; round < 3; round++) {
      await scim.members(analysts, 'add', ids);
      await scim.members(analysts, 'remove', ids);
    }
    await scim.members(analysts, 'add', ids);
    await eventually(
      async () => {
        const grants = await svc.sql<{ user_id: string; state: string }>(`SELECT user_id, state FROM grants WHERE tenant_id = $1 AND user_id = ANY($2::uuid[])`, [t.id, ids]);
        const live = grants.filter((g) => g.state !== 'revoked');
        expect(live.map((g) => g.state)).toEqual(ids.map(() => 'active'));
        expect(new Set(live.map((g) => g.user_id)).size).toBe(ids.length);
        const logins = await downstream.logins();
        for (const [i, id] of ids.entries()) {
          const mine = logins.filter((l) => l.name === loginRoleName(downstream.config.rolePrefix, id, names[i]!));
          expect(mine).toEqual([{ name: expect.any(String), enabled: true, grants: [downstream.roles['analyst']] }]);
        }
      },
      { timeoutMs: 25_000 },
    );
  }, 60_000);
});
