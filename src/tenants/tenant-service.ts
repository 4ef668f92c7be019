import type pg from 'pg';
import { recordAuditEvent, startAuditChain } from '../audit/record-audit-event.js';
import { DomainError } from '../errors/domain-error.js';
import type { Queryable } from '../store/pool.js';
import { markAllUsers, markedUsers, type OnUsersMarked } from '../store/reconcile-outbox.js';
import { revokeAllTokens } from '../store/scim-tokens-store.js';
import { enterTenant, findTenantBySlug, insertTenant, listTenants, updateContractEnd, updateTenantName, updateTenantStatus } from '../store/tenants-store.js';
import { inTx } from '../store/transaction.js';
import { type Tenant, type TenantStatus, tenantNameSchema, tenantSlugSchema } from './tenant.js';
import type { Tx } from '../store/transaction.js';

/** Operator-side management of tenants, shared by the CLI and (later) the admin API. */
export class TenantService {
  constructor(
    private readonly pool: pg.Pool,
    /** Queues the reconcile of users a committed change marked (a contract end moves every grant's end). */
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async create(input: { slug: string; name?: string | undefined }, actor: string): Promise<Tenant> {
    const slug = parseOrThrow(tenantSlugSchema, input.slug, 'slug');
    const name = parseOrThrow(tenantNameSchema, input.name ?? slug, 'name');
    return inTx(this.pool, async (db) => {
      const tenant = await insertTenant(db, slug, name);
      if (!tenant) throw new DomainError('conflict', `tenant "${slug}" already exists`);
      await enterTenant(db, tenant.id);
      await startAuditChain(db, tenant.id);
      recordAuditEvent(db, tenant.id, {
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

  async rename(slug: string, name: string, actor: string): Promise<Tenant> {
    const checked = parseOrThrow(tenantNameSchema, name, 'name');
    return inTx(this.pool, async (db) => {
      const tenant = await requireTenant(db, slug, { lock: true });
      if (tenant.name === checked) return tenant;
      await updateTenantName(db, tenant.id, checked);
      await enterTenant(db, tenant.id);
      recordAuditEvent(db, tenant.id, { actor, action: 'tenant.renamed', resourceType: 'tenant', resourceId: tenant.id, attributes: ['name'] });
      return { ...tenant, name: checked };
    });
  }

  /**
   * Sets the tenant's contract end (null: none). No grant outlives it: every user is reconciled, so grants
   * ending later are shortened to it; an end moved later lengthens nothing already granted (only the IdP's
   * end dates and approvals do), but access that ended with the contract may be granted again.
   */
  async setContractEnd(slug: string, contractEndsAt: Date | null, actor: string): Promise<Tenant> {
    const { tenant, marked } = await inTx(this.pool, async (db) => {
      const tenant = await requireTenant(db, slug, { lock: true });
      if (!(await updateContractEnd(db, tenant.id, contractEndsAt))) return { tenant, marked: [] as string[] };
      await enterTenant(db, tenant.id);
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'tenant.contract_changed',
        resourceType: 'tenant',
        resourceId: tenant.id,
        attributes: ['contractEndsAt'],
        detail: { contractEndsAt: contractEndsAt?.toISOString() ?? null },
      });
      await markAllUsers(db, tenant.id, 'tenant.contract_changed');
      return { tenant: { ...tenant, contractEndsAt }, marked: await markedUsers(db, tenant.id) };
    });
    if (marked.length) this.onMarked(tenant.id, marked, { mayRevoke: true });
    return tenant;
  }

  /**
   * Offboards a tenant: SCIM tokens are revoked (its IdP can no longer push), and every user is reconciled
   * with nothing to hold, so all access is revoked downstream through the normal pipeline, with reason
   * `offboarded`. Every record (users, grants, approvals, audit) is kept. Final: there is no way back.
   */
  async offboard(slug: string, actor: string): Promise<{ tenant: Tenant; tokensRevoked: number; users: number }> {
    const result = await inTx(this.pool, async (db) => {
      const tenant = await requireTenant(db, slug, { lock: true });
      if (tenant.status === 'offboarded') throw new DomainError('conflict', `tenant "${slug}" is already offboarded`);
      await updateTenantStatus(db, tenant.id, 'offboarded');
      await enterTenant(db, tenant.id);
      const tokensRevoked = await revokeAllTokens(db, tenant.id, actor);
      await markAllUsers(db, tenant.id, 'tenant.offboarded');
      const marked = await markedUsers(db, tenant.id);
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'tenant.offboarded',
        resourceType: 'tenant',
        resourceId: tenant.id,
        attributes: ['status'],
        detail: { tokensRevoked, users: marked.length },
      });
      return { tenant: { ...tenant, status: 'offboarded' as const }, tokensRevoked, marked };
    });
    if (result.marked.length) this.onMarked(result.tenant.id, result.marked, { mayRevoke: true });
    return { tenant: result.tenant, tokensRevoked: result.tokensRevoked, users: result.marked.length };
  }

  /** Suspending stops SCIM traffic (403) without touching data; resuming lets it through again. */
  async setStatus(slug: string, status: Exclude<TenantStatus, 'offboarded'>, actor: string): Promise<Tenant> {
    return inTx(this.pool, async (db) => {
      const tenant = await requireTenant(db, slug, { lock: true });
      if (tenant.status === 'offboarded') throw new DomainError('conflict', `tenant "${slug}" is offboarded`);
      if (tenant.status === status) return tenant;
      await updateTenantStatus(db, tenant.id, status);
      await enterTenant(db, tenant.id);
      recordAuditEvent(db, tenant.id, {
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
  work: (db: Tx, tenant: Tenant) => Promise<T>,
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

/** The slug given, or every tenant's: what the listing commands (`approvals list [slug]`, …) walk over. */
export async function tenantSlugs(pool: pg.Pool, slug: string | undefined): Promise<string[]> {
  if (slug) return [slug];
  return (await inTx(pool, (db) => listTenants(db), { readOnly: true })).map((t) => t.slug);
}

/** The id of the tenant `slug` names; not_found when there is none. */
export async function tenantIdOf(pool: pg.Pool, slug: string): Promise<string> {
  return (await requireTenant(pool, slug)).id;
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
