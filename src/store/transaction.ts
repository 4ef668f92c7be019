import type pg from 'pg';
import { appendAuditSql, type PendingAuditEvent } from './audit-append.js';
import type { Queryable } from './pool.js';

/**
 * A connection inside a transaction opened by `inTx` or `inTenantTx`.
 *
 * Audit events recorded in it wait in `pendingAudit` and are appended to the chain by one statement that
 * travels with COMMIT in a single round trip. The tenant's chain head, which every audited write of the
 * tenant needs, is therefore locked for that statement and the commit only, not for the round trips of the
 * rest of the transaction. The events still commit or vanish with the change they record.
 */
export interface Tx extends Queryable {
  readonly pendingAudit: PendingAuditEvent[];
}

class TxClient implements Tx {
  readonly pendingAudit: PendingAuditEvent[] = [];
  readonly query: pg.PoolClient['query'];

  constructor(client: pg.PoolClient) {
    this.query = client.query.bind(client) as pg.PoolClient['query'];
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

export interface TxOptions {
  readOnly?: boolean;
  /** SQL sent with BEGIN in the same round trip (trusted text only, e.g. the tenant context). */
  prelude?: string;
  /**
   * Commit without waiting for the WAL flush. Only for work that is safe to redo: a crash may forget the
   * last fraction of a second of such commits, never leave them half done. The provisioning workers use it
   * because PostgreSQL still holds the intent that made them (the outbox row, the grant in flight) until
   * their commit is durable, so forgotten work is found again by the sweep; their commits are also the
   * ones that queue on a tenant's audit chain head, where a flush per commit would serialise the tenant.
   */
  asyncCommit?: boolean;
  /**
   * Run the whole transaction again (up to this many times) when PostgreSQL aborts it as a deadlock
   * victim. Only for work without side effects outside the transaction: the workers' bookkeeping, whose
   * transactions meet on a tenant's audit chain head in varying order.
   */
  deadlockRetries?: number;
}

const DEADLOCK = '40P01';

/**
 * Runs `work` in one transaction whose row-level-security context is `tenantId`: every tenant-scoped
 * table shows and accepts only that tenant's rows. The context is transaction-local, so a pooled
 * connection never carries it into someone else's request.
 */
export async function inTenantTx<T>(
  pool: pg.Pool,
  tenantId: string,
  work: (db: Tx) => Promise<T>,
  opts: TxOptions = {},
): Promise<T> {
  // Checked here because the id is inlined: BEGIN and set_config travel in one round trip that way.
  if (!isUuid(tenantId)) throw new Error('tenant id is not a uuid');
  return inTx(pool, work, { ...opts, prelude: `SELECT set_config('lanyard.tenant_id', '${tenantId}', true)${opts.asyncCommit ? ";SET LOCAL synchronous_commit TO off" : ''}` });
}

/** A transaction outside any tenant: only the tables without row-level security are visible. */
export async function inTx<T>(
  pool: pg.Pool,
  work: (db: Tx) => Promise<T>,
  opts: TxOptions = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runTx(pool, work, opts);
    } catch (err) {
      if ((err as { code?: string }).code !== DEADLOCK || attempt >= (opts.deadlockRetries ?? 0)) throw err;
    }
  }
}

async function runTx<T>(pool: pg.Pool, work: (db: Tx) => Promise<T>, opts: TxOptions): Promise<T> {
  const client = await pool.connect();
  let result: T;
  const tx = new TxClient(client);
  try {
    await client.query(`BEGIN${opts.readOnly ? ' READ ONLY' : ''};${opts.prelude ?? ''}`);
    result = await work(tx);
    if (opts.readOnly && tx.pendingAudit.length) throw new Error('audit events recorded in a read-only transaction');
  } catch (err) {
    await client.query('ROLLBACK').then(
      () => client.release(),
      // A connection that could not roll back is in an unknown state: drop it instead of reusing it.
      (rollbackErr: Error) => client.release(rollbackErr),
    );
    throw err;
  }
  if (opts.readOnly) {
    // Ending a read-only transaction cannot change what was read, so the answer need not wait for it; the
    // connection goes back to the pool only once it has ended.
    client.query('COMMIT').then(
      () => client.release(),
      (err: Error) => client.release(err),
    );
    return result;
  }
  // One simple-query string: the append, then COMMIT (see Tx). When the append fails, PostgreSQL skips the
  // rest of the string and leaves the transaction aborted, so it is rolled back here.
  const commit = tx.pendingAudit.length ? `${appendAuditSql(tx.pendingAudit, (text) => client.escapeLiteral(text))};COMMIT` : 'COMMIT';
  try {
    await client.query(commit);
  } catch (err) {
    await client.query('ROLLBACK').then(
      () => client.release(),
      (rollbackErr: Error) => client.release(rollbackErr),
    );
    throw err;
  }
  client.release();
  return result;
}
