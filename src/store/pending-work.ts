import type pg from 'pg';
import type { Queryable } from './pool.js';

/** Work recorded in PostgreSQL that Redis may have lost: the sweep's view, across tenants. */
export interface DueWork {
  reconciles: { tenantId: string; userId: string; cause: string }[];
  connectorWork: { tenantId: string; userId: string; connector: string; lane: 'grant' | 'revoke' }[];
}

/** Intents older than `graceMs`, oldest first, at most `max` of each kind. */
export async function dueWork(pool: pg.Pool, graceMs: number, max: number): Promise<DueWork> {
  const grace = `${graceMs} milliseconds`;
  const [reconciles, connectorWork] = await Promise.all([
    pool.query<{ tenant_id: string; user_id: string; cause: string }>('SELECT tenant_id, user_id, cause FROM lanyard_due_reconciles($1::interval, $2)', [grace, max]),
    pool.query<{ tenant_id: string; user_id: string; connector: string; lane: 'grant' | 'revoke' }>(
      'SELECT tenant_id, user_id, connector, lane FROM lanyard_due_connector_work($1::interval, $2)',
      [grace, max],
    ),
  ]);
  return {
    reconciles: reconciles.rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, cause: r.cause })),
    connectorWork: connectorWork.rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, connector: r.connector, lane: r.lane })),
  };
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

/** Which of the given users wait for a reconcile; one round trip for all of them. */
export async function markedAmong(db: Queryable, users: readonly { tenantId: string; userId: string }[]): Promise<{ tenantId: string; userId: string }[]> {
  if (users.length === 0) return [];
  const { rows } = await db.query<{ tenant_id: string; user_id: string }>({
    name: 'outbox.marked-among',
    text: 'SELECT t AS tenant_id, u AS user_id FROM unnest($1::uuid[], $2::uuid[]) AS x (t, u) WHERE lanyard_is_marked(t, u)',
    values: [users.map((x) => x.tenantId), users.map((x) => x.userId)],
  });
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id }));
}

/** For each given user and connector with work left, the lane it belongs on; one round trip for all of them. */
export async function lanesAmong(
  db: Queryable,
  work: readonly { tenantId: string; userId: string; connector: string }[],
): Promise<{ tenantId: string; userId: string; connector: string; lane: 'grant' | 'revoke' }[]> {
  if (work.length === 0) return [];
  const { rows } = await db.query<{ tenant_id: string; user_id: string; connector: string; grant_lane: boolean; revoke_lane: boolean }>({
    name: 'work.lanes-among',
    text: `SELECT x.t AS tenant_id, x.u AS user_id, x.c AS connector, l.grant_lane, l.revoke_lane
             FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x (t, u, c), lanyard_pending_lanes(x.t, x.u, x.c) AS l
            WHERE l.grant_lane OR l.revoke_lane`,
    values: [work.map((w) => w.tenantId), work.map((w) => w.userId), work.map((w) => w.connector)],
  });
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, connector: r.connector, lane: r.revoke_lane ? 'revoke' : 'grant' }));
}
