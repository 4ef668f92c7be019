import type { Queryable } from './pool.js';

export interface ScimTokenRecord {
  id: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface TokenRow {
  id: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

function toRecord(row: TokenRow): ScimTokenRecord {
  return {
    id: row.id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

const COLUMNS = 'id, created_by, created_at, expires_at, revoked_at, last_used_at';

export async function countActiveTokens(db: Queryable, tenantId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM scim_tokens WHERE tenant_id = $1 AND revoked_at IS NULL AND expires_at > now()',
    [tenantId],
  );
  return rows[0]!.n;
}

export async function insertToken(
  db: Queryable,
  token: { id: string; tenantId: string; secretHash: Buffer; createdBy: string; expiresAt: Date },
): Promise<ScimTokenRecord> {
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO scim_tokens (id, tenant_id, secret_hash, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [token.id, token.tenantId, token.secretHash, token.createdBy, token.expiresAt],
  );
  return toRecord(rows[0]!);
}

export async function listTokens(db: Queryable, tenantId: string): Promise<ScimTokenRecord[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${COLUMNS} FROM scim_tokens WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toRecord);
}

/** Revokes once: a second call finds nothing left to change and says so. */
export async function revokeToken(
  db: Queryable,
  tenantId: string,
  tokenId: string,
  revokedBy: string,
): Promise<'revoked' | 'already_revoked' | 'not_found'> {
  const updated = await db.query(
    `UPDATE scim_tokens SET revoked_at = now(), revoked_by = $3
      WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [tenantId, tokenId, revokedBy],
  );
  if (updated.rowCount) return 'revoked';
  const existing = await db.query('SELECT 1 FROM scim_tokens WHERE tenant_id = $1 AND id = $2', [tenantId, tokenId]);
  return existing.rowCount ? 'already_revoked' : 'not_found';
}

export interface TokenLookup {
  tenantId: string;
  tenantStatus: string;
  secretHash: Buffer;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** One round trip, before the request knows its tenant (see the `scim_token_lookup` SQL function). */
export async function lookupToken(db: Queryable, slug: string, tokenId: string): Promise<TokenLookup | null> {
  const { rows } = await db.query<{
    tenant_id: string;
    tenant_status: string;
    secret_hash: Buffer;
    expires_at: Date;
    revoked_at: Date | null;
    last_used_at: Date | null;
  }>({ name: 'scim-tokens.lookup', text: 'SELECT * FROM scim_token_lookup($1, $2)', values: [slug, tokenId] });
  const row = rows[0];
  if (!row) return null;
  return {
    tenantId: row.tenant_id,
    tenantStatus: row.tenant_status,
    secretHash: row.secret_hash,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * Records a use, unless one was recorded within `resolutionMs`: several processes may try at once, and only
 * the first write of a period lands.
 */
export async function touchToken(db: Queryable, tokenId: string, resolutionMs: number): Promise<void> {
  await db.query(
    `UPDATE scim_tokens SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2 / 1000.0))`,
    [tokenId, resolutionMs],
  );
}

/** Revokes every token of the tenant still in force; answers how many. */
export async function revokeAllTokens(db: Queryable, tenantId: string, revokedBy: string): Promise<number> {
  const { rowCount } = await db.query('UPDATE scim_tokens SET revoked_at = now(), revoked_by = $2 WHERE tenant_id = $1 AND revoked_at IS NULL', [tenantId, revokedBy]);
  return rowCount ?? 0;
}
