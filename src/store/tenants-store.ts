import type { Tenant, TenantStatus } from '../tenants/tenant.js';
import type { Queryable } from './pool.js';

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  contract_ends_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, slug, name, status, contract_ends_at, created_at';

function toTenant(row: TenantRow): Tenant {
  return { id: row.id, slug: row.slug, name: row.name, status: row.status, contractEndsAt: row.contract_ends_at, createdAt: row.created_at };
}

export async function insertTenant(db: Queryable, slug: string, name: string): Promise<Tenant | null> {
  const { rows } = await db.query<TenantRow>(
    `INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING RETURNING ${COLUMNS}`,
    [slug, name],
  );
  return rows[0] ? toTenant(rows[0]) : null;
}

export async function findTenantBySlug(db: Queryable, slug: string, opts: { lock?: boolean } = {}): Promise<Tenant | null> {
  const { rows } = await db.query<TenantRow>(
    // NO KEY UPDATE: lockers of a tenant still queue behind each other, but rows that reference the tenant
    // (audit events, grants, outbox rows) can still be written meanwhile. FOR UPDATE would block their
    // foreign-key checks, and deadlock a marking operator against the reconciles it waits for.
    `SELECT ${COLUMNS} FROM tenants WHERE slug = $1${opts.lock ? ' FOR NO KEY UPDATE' : ''}`,
    [slug],
  );
  return rows[0] ? toTenant(rows[0]) : null;
}

export async function listTenants(db: Queryable): Promise<Tenant[]> {
  const { rows } = await db.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants ORDER BY slug`);
  return rows.map(toTenant);
}

export async function updateTenantStatus(db: Queryable, id: string, status: TenantStatus): Promise<void> {
  await db.query('UPDATE tenants SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

/** Points row-level security at this tenant for the rest of the transaction. */
export async function enterTenant(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`SELECT set_config('lanyard.tenant_id', $1, true)`, [tenantId]);
}

/** Sets (or clears, with null) the tenant's contract end; answers false when it was already that. */
export async function updateContractEnd(db: Queryable, id: string, contractEndsAt: Date | null): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE tenants SET contract_ends_at = $2, updated_at = now() WHERE id = $1 AND contract_ends_at IS DISTINCT FROM $2',
    [id, contractEndsAt],
  );
  return rowCount === 1;
}

export async function updateTenantName(db: Queryable, id: string, name: string): Promise<void> {
  await db.query('UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1', [id, name]);
}
