import type { Queryable } from './pool.js';

/**
 * Marks users for reconciliation inside the caller's transaction. Set-based: one statement whatever the
 * number of users. A user already marked is marked again (its `marked_at` moves on), which is what makes a
 * change during a running reconcile lead to another one.
 */
export async function markUsers(db: Queryable, tenantId: string, userIds: readonly string[], cause: string): Promise<void> {
  if (userIds.length === 0) return;
  await db.query({
    name: 'outbox.mark',
    text: `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
           SELECT $1, u, $3 FROM unnest($2::uuid[]) AS u
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause`,
    values: [tenantId, userIds, cause],
  });
}

/** Marks every member of a group (for a rename or deletion, which can change what each of them gets). */
export async function markGroupMembers(db: Queryable, tenantId: string, groupId: string, cause: string): Promise<void> {
  await db.query(
    `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
     SELECT tenant_id, user_id, $3 FROM group_members WHERE tenant_id = $1 AND group_id = $2
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause`,
    [tenantId, groupId, cause],
  );
}

/** Marks every user of the tenant (a new policy can change anyone's access). */
export async function markAllUsers(db: Queryable, tenantId: string, cause: string): Promise<void> {
  await db.query(
    `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
     SELECT tenant_id, id, $2 FROM users WHERE tenant_id = $1
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause`,
    [tenantId, cause],
  );
}

/** A CTE fragment that marks the user a data-modifying statement returned, in that same statement. */
export function markReturnedUserSql(tenantParam: string, causeParam: string): string {
  return `marked AS (
       INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
       SELECT ${tenantParam}::uuid, main.id, ${causeParam}::text FROM main
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
     )`;
}
