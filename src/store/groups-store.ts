import type { Queryable } from './pool.js';

export interface GroupRecord {
  id: string;
  displayName: string;
  externalId: string | null;
  doc: Record<string, unknown>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupWrite {
  displayName: string;
  externalId: string | null;
  doc: Record<string, unknown>;
}

export interface MemberRecord {
  userId: string;
  display: string | null;
}

export interface MemberInput {
  userId: string;
  display: string | null;
}

interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  doc: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const GROUP_COLUMNS = 'r.id, r.display_name, r.external_id, r.doc, r.version, r.created_at, r.updated_at';

export function toGroupRecord(row: GroupRow): GroupRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    externalId: row.external_id,
    doc: row.doc,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertGroup(db: Queryable, tenantId: string, group: GroupWrite): Promise<GroupRecord> {
  const { rows } = await db.query<GroupRow>(
    `INSERT INTO groups AS r (tenant_id, display_name, external_id, doc) VALUES ($1, $2, $3, $4) RETURNING ${GROUP_COLUMNS}`,
    [tenantId, group.displayName, group.externalId, group.doc],
  );
  return toGroupRecord(rows[0]!);
}

export async function findGroup(
  db: Queryable,
  tenantId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<GroupRecord | null> {
  const { rows } = await db.query<GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM groups r WHERE r.tenant_id = $1 AND r.id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0] ? toGroupRecord(rows[0]) : null;
}

/** Writes the group's own attributes and bumps its version; membership changes call this too. */
export async function updateGroup(db: Queryable, tenantId: string, id: string, group: GroupWrite): Promise<GroupRecord> {
  const { rows } = await db.query<GroupRow>(
    `UPDATE groups r SET display_name = $3, external_id = $4, doc = $5, version = version + 1, updated_at = now()
      WHERE r.tenant_id = $1 AND r.id = $2 RETURNING ${GROUP_COLUMNS}`,
    [tenantId, id, group.displayName, group.externalId, group.doc],
  );
  return toGroupRecord(rows[0]!);
}

export async function deleteGroup(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM groups WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return Boolean(rowCount);
}

/**
 * Which of `ids` are users of this tenant: one indexed lookup for the whole batch. The rows are key-share
 * locked (as the membership foreign key would lock them anyway), so a user deleted concurrently is either
 * reported missing here or deleted after this transaction, never in between (which failed the insert).
 */
export async function existingUserIds(db: Queryable, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[]) FOR KEY SHARE',
    [tenantId, ids],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Adds members, set-based: the cost follows the number of members named, not the group's size. Existing
 * members stay (their label is refreshed when a new one is sent). Returns the users newly added.
 */
export async function addMembers(db: Queryable, tenantId: string, groupId: string, members: MemberInput[]): Promise<string[]> {
  if (members.length === 0) return [];
  const { rows } = await db.query<{ user_id: string; inserted: boolean }>(
    `INSERT INTO group_members AS gm (tenant_id, group_id, user_id, display)
     SELECT $1, $2, m.user_id, m.display FROM unnest($3::uuid[], $4::text[]) AS m(user_id, display)
     ON CONFLICT (tenant_id, group_id, user_id) DO UPDATE SET display = EXCLUDED.display
       WHERE EXCLUDED.display IS NOT NULL AND gm.display IS DISTINCT FROM EXCLUDED.display
     RETURNING user_id, (xmax = 0) AS inserted`,
    [tenantId, groupId, members.map((m) => m.userId), members.map((m) => m.display)],
  );
  return rows.filter((r) => r.inserted).map((r) => r.user_id);
}

export async function removeMembers(db: Queryable, tenantId: string, groupId: string, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const { rows } = await db.query<{ user_id: string }>(
    'DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = ANY($3::uuid[]) RETURNING user_id',
    [tenantId, groupId, userIds],
  );
  return rows.map((r) => r.user_id);
}

/** Removes every member except `keep` (none, to empty the group). */
export async function removeMembersExcept(db: Queryable, tenantId: string, groupId: string, keep: string[]): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    `DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND NOT (user_id = ANY($3::uuid[]))
     RETURNING user_id`,
    [tenantId, groupId, keep],
  );
  return rows.map((r) => r.user_id);
}

export interface MemberView {
  userId: string;
  display: string | null;
}

/** A group's members for rendering, in the order they joined. Only read when the client asks for members. */
export async function listMembers(db: Queryable, tenantId: string, groupIds: string[]): Promise<Map<string, MemberView[]>> {
  const result = new Map<string, MemberView[]>();
  if (groupIds.length === 0) return result;
  const { rows } = await db.query<{ group_id: string; user_id: string; display: string | null }>(
    `SELECT gm.group_id, gm.user_id, COALESCE(gm.display, u.doc ->> 'displayName', u.user_name) AS display
       FROM group_members gm JOIN users u ON u.tenant_id = gm.tenant_id AND u.id = gm.user_id
      WHERE gm.tenant_id = $1 AND gm.group_id = ANY($2::uuid[])
      ORDER BY gm.added_at, gm.user_id`,
    [tenantId, groupIds],
  );
  for (const row of rows) {
    const list = result.get(row.group_id) ?? [];
    list.push({ userId: row.user_id, display: row.display });
    result.set(row.group_id, list);
  }
  return result;
}
