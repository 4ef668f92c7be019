import type { CurrentGrant } from '../policy/plan.js';
import type { Queryable } from './pool.js';

/** Every live or ended grant of the given users, for planning (ended ones are ignored by the plan). */
export async function grantsOfUsers(db: Queryable, tenantId: string, userIds: string[]): Promise<Map<string, CurrentGrant[]>> {
  const result = new Map<string, CurrentGrant[]>();
  if (userIds.length === 0) return result;
  const { rows } = await db.query<{ id: string; user_id: string; connector: string; entitlement: string; state: CurrentGrant['state']; ends_at: Date | null; packages: string[] }>(
    `SELECT id, user_id, connector, entitlement, state, ends_at,
            ARRAY(SELECT DISTINCT r ->> 'package' FROM jsonb_array_elements(reasons) r) AS packages
       FROM grants
      WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND state NOT IN ('revoked')`,
    [tenantId, userIds],
  );
  for (const row of rows) {
    const list = result.get(row.user_id) ?? [];
    list.push({ id: row.id, connector: row.connector, entitlement: row.entitlement, state: row.state, endsAt: row.ends_at, packages: row.packages });
    result.set(row.user_id, list);
  }
  return result;
}
