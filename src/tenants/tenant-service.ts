import type pg from 'pg';
import { recordAuditEvent, startAuditChain } from '../audit/record-audit-event.js';
import { DomainError } from '../errors/domain-error.js';
import type { Queryable } from '../store/pool.js';
import { enterTenant, findTenantBySlug, insertTenant, listTenants, updateTenantStatus } from '../store/tenants-store.js';
import { inTx } from '../store/transaction.js';
import { type Tenant, type TenantStatus, tenantNameSchema, tenantSlugSchema } from './tenant.js';

/** Operator-side management of tenants, shared by the CLI and (later) the admin API. */
export class TenantService {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: { slug: string; name?: string | undefined }, actor: string): Promise<Tenant> {
    const slug = parseOrThrow(tenantSlugSchema, input.slug, 'slug');
    const name = parseOrThrow(tenantNameSchema, input.name ?? slug, 'name');
    return inTx(this.pool, async (db) => {
      const tenant = await insertTenant(db, slug, name);
      if (!tenant) throw new DomainError('conflict', `tenant "${slug}" already exists`);
      await enterTenant(db, tenant.id);
      await startAuditChain(db, tenant.id);
      await recordAuditEvent(db, tenant.id, {
        actor,
        action: 'tenant.created',
        resourceType: 'tenant',
        resourceId: tenant.id,
        attributes: ['slug', 'name'],
      });
      return tenant;
    });
  }

  async list(): Promise<Tenant[]> {
    return inTx(this.pool, (db) => listTenants(db), { readOnly: true });
  }

  async get(slug: string): Promise<Tenant> {
    return inTx(this.pool, (db) => requireTenant(db, slug), { readOnly: true });
  }

  /** Suspending stops SCIM traffic (403) without touching data; resuming lets it through again. */
  async setStatus(slug: string, status: Exclude<TenantStatus, 'offboarded'>, actor: string): Promise<Tenant> {
    return inTx(this.pool, async (db) => {
      const tenant = await requireTenant(db, slug, { lock: true });
      if (tenant.status === 'offboarded') throw new DomainError('conflict', `tenant "${slug}" is offboarded`);
      if (tenant.status === status) return tenant;
      await updateTenantStatus(db, tenant.id, status);
      await enterTenant(db, tenant.id);
      await recordAuditEvent(db, tenant.id, {
        actor,
        action: status === 'suspended' ? 'tenant.suspended' : 'tenant.resumed',
        resourceType: 'tenant',
        resourceId: tenant.id,
        attributes: ['status'],
      });
      return { ...tenant, status };
    });
  }
}

/**
 * An operator's transaction on one tenant named by slug: the tenant is found (and its row locked when the
 * work must be serialised per tenant), then row-level security points at it for the rest of the transaction.
 */
export function inTenantBySlug<T>(
  pool: pg.Pool,
  slug: string,
  work: (db: Queryable, tenant: Tenant) => Promise<T>,
  opts: { lock?: boolean; readOnly?: boolean } = {},
): Promise<T> {
  return inTx(
    pool,
    async (db) => {
      const tenant = await requireTenant(db, slug, { lock: opts.lock ?? false });
      await enterTenant(db, tenant.id);
      return work(db, tenant);
    },
    { readOnly: opts.readOnly ?? false },
  );
}

export async function requireTenant(db: Queryable, slug: string, opts: { lock?: boolean } = {}): Promise<Tenant> {
  const tenant = await findTenantBySlug(db, slug, opts);
  if (!tenant) throw new DomainError('not_found', `no tenant "${slug}"`);
  return tenant;
}

function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new DomainError('invalid_input', `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}
