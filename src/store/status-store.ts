import { GRANT_STATES, type GrantState } from '../policy/grant-state.js';
import type { TenantStatus } from '../tenants/tenant.js';
import type { Queryable } from './pool.js';

/** One tenant's state at a glance, as aggregates only (see the `lanyard_tenant_status` SQL function). */
export interface TenantStatusRow {
  tenantId: string;
  slug: string;
  status: TenantStatus;
  contractEndsAt: Date | null;
  users: number;
  activeUsers: number;
  /** Every state, zero when the tenant has no grant in it. */
  grants: Record<GrantState, number>;
  pendingApprovals: number;
  pendingHolds: number;
  /** Parked downstream work: one per user and connector, as `lanyard jobs failed` lists it. */
  parkedWork: number;
  /** The latest authenticated SCIM request, reads included; null when the tenant was never reached. */
  lastScimRequestAt: Date | null;
  activeTokens: number;
  /** Tokens in force that expire within the window asked about. */
  expiringTokens: number;
  nextTokenExpiry: Date | null;
}

interface StatusRow {
  tenant_id: string;
  slug: string;
  status: TenantStatus;
  contract_ends_at: Date | null;
  users: number;
  active_users: number;
  grants: Partial<Record<string, number>>;
  pending_approvals: number;
  pending_holds: number;
  parked_work: number;
  last_scim_request_at: Date | null;
  active_tokens: number;
  expiring_tokens: number;
  next_token_expiry: Date | null;
}

function grantCounts(counts: Partial<Record<string, number>>): Record<GrantState, number> {
  const out = {} as Record<GrantState, number>;
  for (const state of GRANT_STATES) out[state] = counts[state] ?? 0;
  return out;
}

/** Every tenant's status (or one tenant's, by slug), in slug order; one round trip. */
export async function tenantStatuses(db: Queryable, opts: { slug?: string; expiringWithinMs: number }): Promise<TenantStatusRow[]> {
  const { rows } = await db.query<StatusRow>({
    name: 'status.tenants',
    text: 'SELECT * FROM lanyard_tenant_status($1, $2::interval)',
    values: [opts.slug ?? null, `${opts.expiringWithinMs} milliseconds`],
  });
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    slug: r.slug,
    status: r.status,
    contractEndsAt: r.contract_ends_at,
    users: r.users,
    activeUsers: r.active_users,
    grants: grantCounts(r.grants),
    pendingApprovals: r.pending_approvals,
    pendingHolds: r.pending_holds,
    parkedWork: r.parked_work,
    lastScimRequestAt: r.last_scim_request_at,
    activeTokens: r.active_tokens,
    expiringTokens: r.expiring_tokens,
    nextTokenExpiry: r.next_token_expiry,
  }));
}

export interface ExpiringTokens {
  tenantId: string;
  slug: string;
  expiring: number;
  nextExpiry: Date;
}

/** Tenants with tokens in force that expire within `withinMs`, with how many and the first expiry. */
export async function expiringTokens(db: Queryable, withinMs: number): Promise<ExpiringTokens[]> {
  const { rows } = await db.query<{ tenant_id: string; slug: string; expiring: number; next_expiry: Date }>(
    'SELECT tenant_id, slug, expiring, next_expiry FROM lanyard_expiring_tokens($1::interval)',
    [`${withinMs} milliseconds`],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, slug: r.slug, expiring: r.expiring, nextExpiry: r.next_expiry }));
}
