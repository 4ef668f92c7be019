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

export async function isMarked(db: Queryable, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await db.query({ name: 'outbox.is-marked', text: 'SELECT 1 FROM reconcile_outbox WHERE tenant_id = $1 AND user_id = $2', values: [tenantId, userId] });
  return rows.length > 0;
}

/** Which lanes still have work for one user on one connector (parked work excluded). */
export async function pendingLanes(db: Queryable, tenantId: string, userId: string, connector: string): Promise<{ grant: boolean; revoke: boolean }> {
  const { rows } = await db.query<{ grant: boolean | null; revoke: boolean | null }>({
    name: 'work.pending-lanes',
    text: `SELECT bool_or(lane = 'grant') AS grant, bool_or(lane = 'revoke') AS revoke FROM (
             SELECT CASE state WHEN 'revoking' THEN 'revoke' ELSE 'grant' END AS lane FROM grants
              WHERE tenant_id = $1 AND user_id = $2 AND connector = $3 AND state IN ('provisioning', 'revoking')
             UNION ALL
             SELECT CASE desired WHEN 'active' THEN 'grant' ELSE 'revoke' END FROM connector_accounts
              WHERE tenant_id = $1 AND user_id = $2 AND connector = $3 AND state <> desired AND last_error IS NULL
           ) w`,
    values: [tenantId, userId, connector],
  });
  return { grant: rows[0]?.grant ?? false, revoke: rows[0]?.revoke ?? false };
}
