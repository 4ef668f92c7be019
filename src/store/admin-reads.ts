import type { GrantState } from '../policy/grant-state.js';
import type { GroupRef } from './users-store.js';
import type { Queryable } from './pool.js';

/**
 * Keyset-paged reads for the admin API: each answers up to `limit + 1` rows after a key, in key order, so a
 * page costs the same at the start of a tenant as deep into it, and the extra row says whether more follow.
 */

export interface DirectoryUser {
  seq: number;
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  doc: Record<string, unknown>;
  groups: GroupRef[];
  createdAt: Date;
  updatedAt: Date;
}

export async function pageUsers(db: Queryable, tenantId: string, q: { afterSeq: number; limit: number; userName?: string | undefined; id?: string | undefined }): Promise<DirectoryUser[]> {
  const { rows } = await db.query<{ seq: string; id: string; user_name: string; external_id: string | null; active: boolean; doc: Record<string, unknown>; groups: GroupRef[]; created_at: Date; updated_at: Date }>(
    `SELECT r.seq, r.id, r.user_name, r.external_id, r.active, r.doc, r.created_at, r.updated_at,
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('groupId', g.id, 'displayName', g.display_name) ORDER BY g.seq), '[]'::jsonb)
               FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
              WHERE gm.tenant_id = r.tenant_id AND gm.user_id = r.id) AS groups
       FROM users r
      WHERE r.tenant_id = $1 AND r.seq > $2
        AND ($4::text IS NULL OR r.user_name_folded = lower($4))
        AND ($5::uuid IS NULL OR r.id = $5)
      ORDER BY r.seq LIMIT $3`,
    [tenantId, q.afterSeq, q.limit + 1, q.userName ?? null, q.id ?? null],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    userName: r.user_name,
    externalId: r.external_id,
    active: r.active,
    doc: r.doc,
    groups: r.groups,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

export interface DirectoryGroup {
  seq: number;
  id: string;
  displayName: string;
  externalId: string | null;
  members: number;
  createdAt: Date;
  updatedAt: Date;
}

export async function pageGroups(db: Queryable, tenantId: string, q: { afterSeq: number; limit: number; id?: string | undefined }): Promise<DirectoryGroup[]> {
  const { rows } = await db.query<{ seq: string; id: string; display_name: string; external_id: string | null; members: number; created_at: Date; updated_at: Date }>(
    `SELECT r.seq, r.id, r.display_name, r.external_id, r.created_at, r.updated_at,
            (SELECT count(*)::int FROM group_members gm WHERE gm.tenant_id = r.tenant_id AND gm.group_id = r.id) AS members
       FROM groups r
      WHERE r.tenant_id = $1 AND r.seq > $2 AND ($4::uuid IS NULL OR r.id = $4)
      ORDER BY r.seq LIMIT $3`,
    [tenantId, q.afterSeq, q.limit + 1, q.id ?? null],
  );
  return rows.map((r) => ({ seq: Number(r.seq), id: r.id, displayName: r.display_name, externalId: r.external_id, members: r.members, createdAt: r.created_at, updatedAt: r.updated_at }));
}

/** The members of one group, by userName, for the group's own page. */
export async function groupMembers(db: Queryable, tenantId: string, groupId: string): Promise<{ id: string; userName: string }[]> {
  const { rows } = await db.query<{ id: string; user_name: string }>(
    `SELECT u.id, u.user_name FROM group_members gm JOIN users u ON u.tenant_id = gm.tenant_id AND u.id = gm.user_id
      WHERE gm.tenant_id = $1 AND gm.group_id = $2 ORDER BY u.user_name_folded`,
    [tenantId, groupId],
  );
  return rows.map((r) => ({ id: r.id, userName: r.user_name }));
}

export interface ListedGrant {
  id: string;
  userId: string;
  userName: string;
  connector: string;
  entitlement: string;
  state: GrantState;
  reasons: unknown[];
  policyVersion: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  revokeReason: string | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at to the microsecond, as text: the page key, which a JavaScript Date (milliseconds) would blur. */
  createdKey: string;
}

export interface GrantFilter {
  state?: GrantState | undefined;
  /** Case-insensitively, as recorded on the grant (so grants of deleted users are found too). */
  userName?: string | undefined;
  package?: string | undefined;
  connector?: string | undefined;
}

export async function pageGrants(db: Queryable, tenantId: string, q: GrantFilter & { after: readonly [string, string] | null; limit: number }): Promise<ListedGrant[]> {
  const { rows } = await db.query<{
    id: string; user_id: string; user_name: string; connector: string; entitlement: string; state: GrantState; reasons: unknown[];
    policy_version: number | null; starts_at: Date | null; ends_at: Date | null; revoke_reason: string | null; last_error: string | null; created_at: Date; updated_at: Date;
    created_key: string;
  }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key, id, user_id, user_name, connector, entitlement, state, reasons, policy_version, starts_at, ends_at, revoke_reason, last_error, created_at, updated_at
       FROM grants
      WHERE tenant_id = $1
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        AND ($5::text IS NULL OR state = $5)
        AND ($6::text IS NULL OR lower(user_name) = lower($6))
        AND ($7::text IS NULL OR reasons @> jsonb_build_array(jsonb_build_object('package', $7::text)))
        AND ($8::text IS NULL OR connector = $8)
      ORDER BY created_at, id LIMIT $4`,
    [tenantId, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit + 1, q.state ?? null, q.userName ?? null, q.package ?? null, q.connector ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    userName: r.user_name,
    connector: r.connector,
    entitlement: r.entitlement,
    state: r.state,
    reasons: r.reasons,
    policyVersion: r.policy_version,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    revokeReason: r.revoke_reason,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdKey: r.created_key,
  }));
}

export interface ListedAuditEvent {
  seq: number;
  /** The hashed entry, exactly as recorded (canonical JSON). */
  entry: string;
  hash: string;
}

export interface AuditFilter {
  since?: Date | undefined;
  until?: Date | undefined;
  action?: string | undefined;
  actor?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
}

export async function pageAuditEvents(db: Queryable, tenantId: string, q: AuditFilter & { afterSeq: number; limit: number }): Promise<ListedAuditEvent[]> {
  const { rows } = await db.query<{ seq: string; entry: string; hash: string }>(
    `SELECT seq, entry, encode(hash, 'hex') AS hash FROM audit_events
      WHERE tenant_id = $1 AND seq > $2
        AND ($4::timestamptz IS NULL OR occurred_at >= $4)
        AND ($5::timestamptz IS NULL OR occurred_at < $5)
        AND ($6::text IS NULL OR action = $6)
        AND ($7::text IS NULL OR actor = $7)
        AND ($8::text IS NULL OR resource_type = $8)
        AND ($9::text IS NULL OR resource_id = $9)
      ORDER BY seq LIMIT $3`,
    [tenantId, q.afterSeq, q.limit + 1, q.since?.toISOString() ?? null, q.until?.toISOString() ?? null, q.action ?? null, q.actor ?? null, q.resourceType ?? null, q.resourceId ?? null],
  );
  return rows.map((r) => ({ seq: Number(r.seq), entry: r.entry, hash: r.hash }));
}

export interface PolicyVersionSummary {
  version: number;
  appliedBy: string;
  appliedAt: Date;
}

export async function pagePolicyVersions(db: Queryable, tenantId: string, q: { beforeVersion: number | null; limit: number }): Promise<PolicyVersionSummary[]> {
  const { rows } = await db.query<{ version: number; applied_by: string; applied_at: Date }>(
    `SELECT version, applied_by, applied_at FROM policy_versions
      WHERE tenant_id = $1 AND ($2::int IS NULL OR version < $2)
      ORDER BY version DESC LIMIT $3`,
    [tenantId, q.beforeVersion, q.limit + 1],
  );
  return rows.map((r) => ({ version: r.version, appliedBy: r.applied_by, appliedAt: r.applied_at }));
}
