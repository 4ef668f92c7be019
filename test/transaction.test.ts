import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/store/pool.js';
import { inTx } from '../src/store/transaction.js';
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
