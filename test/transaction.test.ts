import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/store/pool.js';
import { recordAuditEvent } from '../src/audit/record-audit-event.js';
import { verifyAudit } from '../src/audit/verify-chain.js';
import { inTenantTx, inTx } from '../src/store/transaction.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/** Transactions that lock the same two rows in opposite order: PostgreSQL aborts one as a deadlock victim. */
let svc: TestService;
let ids: [string, string];

beforeAll(async () => {
  svc = await startTestService();
  ids = [(await svc.tenant()).id, (await svc.tenant()).id];
});
afterAll(() => svc.close());

function crossing(deadlockRetries: number): Promise<PromiseSettledResult<void>[]> {
  let arrived = 0;
  const bothLocked = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (arrived === 2) {
        clearInterval(check);
        resolve();
      }
    }, 10);
  });
  const lockInOrder = (first: string, second: string) => async (db: Queryable) => {
    await db.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [first]);
    arrived += 1;
    await bothLocked;
    await db.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [second]);
  };
  return Promise.allSettled([inTx(svc.runtime.pool, lockInOrder(ids[0], ids[1]), { deadlockRetries }), inTx(svc.runtime.pool, lockInOrder(ids[1], ids[0]), { deadlockRetries })]);
}

describe('inTx deadlockRetries', () => {
  it('without retries, the deadlock victim fails with 40P01', async () => {
    const results = await crossing(0);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['40P01']);
  });

  it('with retries, the victim runs again and both commit', async () => {
    const results = await crossing(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });
});

describe('a transaction and its audit events', () => {
  it('refuses audit events in a read-only transaction, and records nothing', async () => {
    const [tenantId] = ids;
    const count = async () => Number((await svc.sql<{ n: string }>('SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1', [tenantId]))[0]!.n);
    const before = await count();
    const attempt = inTenantTx(svc.runtime.pool, tenantId, async (db) => {
      recordAuditEvent(db, tenantId, { actor: 'operator:test', action: 'test.read_only', resourceType: 'tenant', resourceId: tenantId });
    }, { readOnly: true });
    await expect(attempt).rejects.toThrow(/read-only/);
    expect(await count()).toBe(before);
  });

  it('appends events whose text needs escaping exactly as recorded, with the change, in one commit', async () => {
    const [tenantId] = ids;
    const tricky = `it's a "quote", a back\\slash, a newline\n, and unicode: ✓ 💡 \u0000`.replace('\u0000', '');
    await inTenantTx(svc.runtime.pool, tenantId, async (db) => {
      recordAuditEvent(db, tenantId, { actor: `operator:${tricky}`, action: 'test.escaped', resourceType: 'tenant', resourceId: null, detail: { text: tricky } });
    });
    const [row] = await svc.sql<{ actor: string; entry: string }>("SELECT actor, entry FROM audit_events WHERE tenant_id = $1 AND action = 'test.escaped'", [tenantId]);
    expect(row!.actor).toBe(`operator:${tricky}`);
    expect((JSON.parse(row!.entry) as { detail: { text: string } }).detail.text).toBe(tricky);
    const verdict = await verifyAudit(svc.runtime.pool, tenantId);
    expect(verdict.ok).toBe(true);
  });
});
