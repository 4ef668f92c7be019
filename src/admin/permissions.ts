import type { Operator, OperatorRole } from '../operators/operator.js';

/**
 * What the admin API asks permission for. Every action concerns one tenant except where the route has
 * none (a list across tenants), in which case only roles spanning every tenant pass.
 *
 * There is no action that edits a user: users and their groups come from the tenant's IdP only.
 */
export const ADMIN_ACTIONS = [
  'tenant.read',
  'tenant.write',
  'connector.write',
  'policy.write',
  'approval.decide',
  'audit.read',
  'evidence.read',
  'user.read',
  'jobs.retry',
  'operator.manage',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/**
 * - msp-admin: everything, on every tenant.
 * - tenant-admin: runs its own tenants (connectors, policy, approvals, parked jobs, reading users, audit and
 *   evidence) but not the tenant itself: creating, suspending, offboarding and contract ends are the MSP's
 *   agreement with the client, so `tenant.write` stays with msp-admin.
 * - auditor: reads the audit trail and evidence, and the tenants' names and states it needs to find them.
 *   Not `user.read`: the directory holds personal data the audit trail deliberately leaves out.
 */
const ALLOWED: Record<OperatorRole, ReadonlySet<AdminAction>> = {
  'msp-admin': new Set(ADMIN_ACTIONS),
  'tenant-admin': new Set(['tenant.read', 'connector.write', 'policy.write', 'approval.decide', 'audit.read', 'evidence.read', 'user.read', 'jobs.retry']),
  auditor: new Set(['tenant.read', 'audit.read', 'evidence.read']),
};

/** Whether `operator` may perform `action`, on `tenantSlug` when the action concerns one tenant. */
export function can(operator: Operator, action: AdminAction, tenantSlug?: string): boolean {
  if (!ALLOWED[operator.role].has(action)) return false;
  if (operator.role !== 'tenant-admin') return true;
  // Fails closed: a tenant-admin said to have every tenant has none.
  return tenantSlug !== undefined && operator.tenants !== 'all' && operator.tenants.includes(tenantSlug);
}

/** Whether `operator`'s role includes `action` at all: for listings that show each operator only its tenants. */
export function roleAllows(operator: Operator, action: AdminAction): boolean {
  return ALLOWED[operator.role].has(action);
}

/** The tenants an operator may see in a listing: every one, or a tenant-admin's own. */
export function visibleTenants(operator: Operator): ((slug: string) => boolean) {
  const own = operator.tenants;
  return own === 'all' ? () => true : (slug) => own.includes(slug);
}
