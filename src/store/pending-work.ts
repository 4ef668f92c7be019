import type pg from 'pg';
import type { Queryable } from './pool.js';

/** Work recorded in PostgreSQL that Redis may have lost: the sweep's view, across tenants. */
export interface DueWork {
  reconciles: { tenantId: string; userId: string }[];
  connectorWork: { tenantId: string; userId: string; connector: string; lane: 'grant' | 'revoke' }[];
}

/** Intents older than `graceMs`, oldest first, at most `max` of each kind. */
export async function dueWork(pool: pg.Pool, graceMs: number, max: number): Promise<DueWork> {
  const grace = `${graceMs} milliseconds`;
  const [reconciles, connectorWork] = await Promise.all([
    pool.query<{ tenant_id: string; user_id: string }>('SELECT tenant_id, user_id FROM lanyard_due_reconciles($1::interval, $2)', [grace, max]),
    pool.query<{ tenant_id: string; user_id: string; connector: string; lane: 'grant' | 'revoke' }>(
      'SELECT tenant_id, user_id, connector, lane FROM lanyard_due_connector_work($1::interval, $2)',
      [grace, max],
    ),
  ]);
  return {
    reconciles: reconciles.rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id })),
    connectorWork: connectorWork.rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, connector: r.connector, lane: r.lane })),
  };
}

/** Whether the user waits for a reconcile; one round trip, outside any transaction. */
export async function isMarked(db: Queryable, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ marked: boolean }>({ name: 'outbox.is-marked', text: 'SELECT lanyard_is_marked($1, $2) AS marked', values: [tenantId, userId] });
  return rows[0]?.marked ?? false;
}

/** Which lanes still have work for one user on one connector (parked work excluded); one round trip. */
export async function pendingLanes(db: Queryable, tenantId: string, userId: string, connector: string): Promise<{ grant: boolean; revoke: boolean }> {
  const { rows } = await db.query<{ grant_lane: boolean; revoke_lane: boolean }>({
    name: 'work.pending-lanes',
    text: 'SELECT grant_lane, revoke_lane FROM lanyard_pending_lanes($1, $2, $3)',
    values: [tenantId, userId, connector],
  });
  return { grant: rows[0]?.grant_lane ?? false, revoke: rows[0]?.revoke_lane ?? false };
}
