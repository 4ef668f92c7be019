import type pg from 'pg';

/**
 * Bulk-loads a tenant's users straight into PostgreSQL: creating 100,000 users through SCIM would take
 * minutes and measure the import, not the reads. The rows have the same shape the SCIM endpoint stores.
 */
export async function seedUsers(db: pg.Client, tenantId: string, prefix: string, count: number): Promise<void> {
  await db.query(
    `INSERT INTO users (tenant_id, user_name, external_id, active, doc)
     SELECT $1, u.name, 'ext-' || g, true,
            jsonb_build_object(
              'userName', u.name, 'externalId', 'ext-' || g, 'active', true, 'displayName', 'User ' || g,
              'name', jsonb_build_object('givenName', 'Given' || g, 'familyName', 'Family' || (g % 997)),
              'emails', jsonb_build_array(jsonb_build_object('value', u.name, 'type', 'work', 'primary', true)),
              'title', CASE WHEN g % 3 = 0 THEN 'Analyst' ELSE 'Engineer' END)
       FROM generate_series(1, $3::int) AS g, LATERAL (SELECT $2 || g || '@bench.example' AS name) u`,
    [tenantId, prefix, count],
  );
}

/** A group whose members are the tenant's first `members` users (by creation order). */
export async function seedGroup(db: pg.Client, tenantId: string, displayName: string, members: number): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO groups (tenant_id, display_name, doc) VALUES ($1, $2, jsonb_build_object('displayName', $2::text)) RETURNING id`,
    [tenantId, displayName],
  );
  const groupId = rows[0]!.id;
  await db.query(
    `INSERT INTO group_members (tenant_id, group_id, user_id)
     SELECT $1, $2, id FROM users WHERE tenant_id = $1 ORDER BY seq LIMIT $3`,
    [tenantId, groupId, members],
  );
  return groupId;
}

/** Ids of users in creation order from `offset`, for member changes that touch no seeded membership. */
export async function userIds(db: pg.Client, tenantId: string, offset: number, count: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 ORDER BY seq OFFSET $2 LIMIT $3', [
    tenantId,
    offset,
    count,
  ]);
  return rows.map((r) => r.id);
}
