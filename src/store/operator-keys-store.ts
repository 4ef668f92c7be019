import type { OperatorRole } from '../operators/operator.js';
import type { Queryable } from './pool.js';

export interface OperatorKeyRecord {
  id: string;
  name: string;
  role: OperatorRole;
  /** Slugs of the tenants a tenant-admin key administers; empty for the other roles. */
  tenants: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
}

interface KeyRow {
  id: string;
  name: string;
  role: OperatorRole;
  tenants: string[];
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
}

function toRecord(row: KeyRow): OperatorKeyRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    tenants: row.tenants,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at,
  };
}

/** Every key column but the hash (unless asked for), with the key's tenant slugs. */
const selectKeys = (extraColumns = '') => `
  SELECT k.id, k.name, k.role, k.created_by, k.created_at, k.expires_at, k.revoked_at, k.revoked_by, k.last_used_at,
         COALESCE((SELECT array_agg(t.slug ORDER BY t.slug)
                     FROM operator_key_tenants kt JOIN tenants t ON t.id = kt.tenant_id
                    WHERE kt.key_id = k.id), '{}') AS tenants${extraColumns}
    FROM operator_keys k`;

export async function insertOperatorKey(
  db: Queryable,
  key: { id: string; name: string; role: OperatorRole; tenantIds: readonly string[]; secretHash: Buffer; createdBy: string; ttlMs: number },
): Promise<void> {
  // The expiry is counted on the database's clock, the one `created_at` and the lifetime check use.
  await db.query(
    `INSERT INTO operator_keys (id, name, role, secret_hash, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6 / 1000.0))`,
    [key.id, key.name, key.role, key.secretHash, key.createdBy, key.ttlMs],
  );
  if (key.tenantIds.length) {
    await db.query('INSERT INTO operator_key_tenants (key_id, tenant_id) SELECT $1, unnest($2::uuid[])', [key.id, key.tenantIds]);
  }
}

export async function findOperatorKey(db: Queryable, id: string): Promise<OperatorKeyRecord | null> {
  const { rows } = await db.query<KeyRow>(`${selectKeys()} WHERE k.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listOperatorKeys(db: Queryable): Promise<OperatorKeyRecord[]> {
  const { rows } = await db.query<KeyRow>(`${selectKeys()} ORDER BY k.created_at, k.id`);
  return rows.map(toRecord);
}

/** Revokes once: a second call finds nothing left to change and says so. */
export async function revokeOperatorKey(db: Queryable, id: string, revokedBy: string): Promise<'revoked' | 'already_revoked' | 'not_found'> {
  const updated = await db.query('UPDATE operator_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL', [id, revokedBy]);
  if (updated.rowCount) return 'revoked';
  const existing = await db.query('SELECT 1 FROM operator_keys WHERE id = $1', [id]);
  return existing.rowCount ? 'already_revoked' : 'not_found';
}

/** The ids of the tenants a key administers, in a fixed order (the order their chain heads are locked in). */
export async function operatorKeyTenantIds(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM operator_key_tenants WHERE key_id = $1 ORDER BY tenant_id', [id]);
  return rows.map((r) => r.tenant_id);
}

export interface OperatorKeyLookup extends OperatorKeyRecord {
  secretHash: Buffer;
}

/** One round trip per authenticated request; the hash is compared by the caller in constant time. */
export async function lookupOperatorKey(db: Queryable, id: string): Promise<OperatorKeyLookup | null> {
  const { rows } = await db.query<KeyRow & { secret_hash: Buffer }>({
    name: 'operator-keys.lookup',
    text: `${selectKeys(', k.secret_hash')} WHERE k.id = $1`,
    values: [id],
  });
  const row = rows[0];
  return row ? { ...toRecord(row), secretHash: row.secret_hash } : null;
}

/**
 * Records a use, unless one was recorded within `resolutionMs`: several processes may try at once, and only
 * the first write of a period lands.
 */
export async function touchOperatorKey(db: Queryable, id: string, resolutionMs: number): Promise<void> {
  await db.query(
    `UPDATE operator_keys SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2 / 1000.0))`,
    [id, resolutionMs],
  );
}
