import type { Queryable } from './pool.js';

/**
 * Told, after a transaction that marked users has committed, which users it marked, so their reconcile
 * can be queued at once. Best effort by design: the outbox rows are the promise, a sweep keeps it.
 */
export type OnUsersMarked = (tenantId: string, userIds: readonly string[], change: MarkedChange) => void;

/** What kind of change marked the users: one that may take access away is reconciled first. */
export interface MarkedChange {
  mayRevoke: boolean;
}

/**
 * Marks users for reconciliation inside the caller's transaction. Set-based: one statement whatever the
 * number of users, taking the rows in id order so that concurrent markers never deadlock. A user already marked is marked again (its `marked_at` moves on), which is what makes a
 * change during a running reconcile lead to another one.
 */
export async function markUsers(db: Queryable, tenantId: string, userIds: readonly string[], cause: string): Promise<readonly string[]> {
  if (userIds.length === 0) return userIds;
  await db.query({
    name: 'outbox.mark',
    text: `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
           SELECT $1, u, $3 FROM unnest($2::uuid[]) AS u ORDER BY u
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause`,
    values: [tenantId, userIds, cause],
  });
  return userIds;
}

/** Marks every member of a group (for a rename or deletion, which can change what each of them gets). */
export async function markGroupMembers(db: Queryable, tenantId: string, groupId: string, cause: string): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
     SELECT tenant_id, user_id, $3 FROM group_members WHERE tenant_id = $1 AND group_id = $2 ORDER BY user_id
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
     RETURNING user_id`,
    [tenantId, groupId, cause],
  );
  return rows.map((r) => r.user_id);
}

/** Marks every user of the tenant (a new policy can change anyone's access). */
export async function markAllUsers(db: Queryable, tenantId: string, cause: string): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
     SELECT tenant_id, id, $2 FROM users WHERE tenant_id = $1 ORDER BY id
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause`,
    [tenantId, cause],
  );
  return rowCount ?? 0;
}

/** Every user of the tenant waiting for a reconcile. */
export async function markedUsers(db: Queryable, tenantId: string): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM reconcile_outbox WHERE tenant_id = $1 ORDER BY marked_at', [tenantId]);
  return rows.map((r) => r.user_id);
}

/** A CTE fragment that marks the user a data-modifying statement returned, in that same statement. */
export function markReturnedUserSql(tenantParam: string, causeParam: string): string {
  return `marked AS (
       INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
       SELECT ${tenantParam}::uuid, main.id, ${causeParam}::text FROM main
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
       RETURNING user_id
     )`;
}
