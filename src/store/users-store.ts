import type { Queryable, Statement } from './pool.js';

/** A user row: the SCIM document as stored plus the columns Lanyard indexes and versions. */
export interface UserRecord {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  doc: Record<string, unknown>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserWrite {
  userName: string;
  externalId: string | null;
  active: boolean;
  doc: Record<string, unknown>;
}

export interface UserRow {
  id: string;
  user_name: string;
  external_id: string | null;
  active: boolean;
  doc: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const USER_COLUMNS = 'r.id, r.user_name, r.external_id, r.active, r.doc, r.version, r.created_at, r.updated_at';

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    userName: row.user_name,
    externalId: row.external_id,
    active: row.active,
    doc: row.doc,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Statements for the writes that travel with their audit event (see `writeWithAudit`). */
export function insertUserStatement(tenantId: string, id: string, user: UserWrite): Statement {
  return {
    name: 'users.insert',
    text: `INSERT INTO users AS r (tenant_id, id, user_name, external_id, active, doc) VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING ${USER_COLUMNS}`,
    values: [tenantId, id, user.userName, user.externalId, user.active, user.doc],
  };
}

export function updateUserStatement(tenantId: string, id: string, user: UserWrite): Statement {
  return {
    name: 'users.update',
    text: `UPDATE users r SET user_name = $3, external_id = $4, active = $5, doc = $6, version = version + 1, updated_at = now()
            WHERE r.tenant_id = $1 AND r.id = $2 RETURNING ${USER_COLUMNS}`,
    values: [tenantId, id, user.userName, user.externalId, user.active, user.doc],
  };
}

export function deleteUserStatement(tenantId: string, id: string): Statement {
  return { name: 'users.delete', text: 'DELETE FROM users WHERE tenant_id = $1 AND id = $2 RETURNING id', values: [tenantId, id] };
}

export async function findUser(
  db: Queryable,
  tenantId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<UserRecord | null> {
  const { rows } = await db.query<UserRow>({
    name: opts.forUpdate ? 'users.find-for-update' : 'users.find',
    text: `SELECT ${USER_COLUMNS} FROM users r WHERE r.tenant_id = $1 AND r.id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    values: [tenantId, id],
  });
  return rows[0] ? toUserRecord(rows[0]) : null;
}

/** A user and the groups it belongs to, in one query. */
export async function findUserWithGroups(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<{ user: UserRecord; groups: GroupRef[] } | null> {
  const { rows } = await db.query<UserRowWithGroups>({
    name: 'users.find-with-groups',
    text: `SELECT ${USER_COLUMNS}, ${USER_GROUPS_COLUMN} FROM users r WHERE r.tenant_id = $1 AND r.id = $2`,
    values: [tenantId, id],
  });
  return rows[0] ? { user: toUserRecord(rows[0]), groups: rows[0].groups ?? [] } : null;
}

export interface GroupRef {
  groupId: string;
  displayName: string;
}

/**
 * The groups a user belongs to, as one JSON column of the user's own row: reading them costs an indexed
 * subquery per row returned, and no extra round trip.
 */
export const USER_GROUPS_COLUMN = `(SELECT COALESCE(jsonb_agg(jsonb_build_object('groupId', g.id, 'displayName', g.display_name) ORDER BY g.seq), '[]'::jsonb)
     FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
    WHERE gm.tenant_id = r.tenant_id AND gm.user_id = r.id) AS groups`;

export interface UserRowWithGroups extends UserRow {
  groups?: GroupRef[];
}

/** A user by userName, case-insensitively (as SCIM compares it). */
export async function findUserByUserName(db: Queryable, tenantId: string, userName: string): Promise<UserRecord | null> {
  const { rows } = await db.query<UserRow>({
    name: 'users.find-by-name',
    text: `SELECT ${USER_COLUMNS} FROM users r WHERE r.tenant_id = $1 AND r.user_name_folded = lower($2)`,
    values: [tenantId, userName],
  });
  return rows[0] ? toUserRecord(rows[0]) : null;
}
