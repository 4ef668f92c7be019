import { tenantSlugSchema } from '../tenants/tenant.js';
import { type OperatorRole, operatorRoleSchema } from './operator.js';

/**
 * `ADMIN_OIDC_ROLE_MAP`: which values of the role claim (usually the IdP's group names or ids) make which
 * operator. Comma-separated entries `<claim value>=<role>`, where a tenant-admin names its tenants after a
 * colon, several joined by `+`:
 *
 *     lanyard-msp-admins=msp-admin, acme-admins=tenant-admin:acme, partners=tenant-admin:acme+globex, auditors=auditor
 *
 * Claim values may hold anything but `,` and `=` (Entra group ids, Okta group names with spaces); spaces
 * around entries and parts are ignored. Each claim value appears once.
 */
export type RoleMap = ReadonlyMap<string, RoleGrant>;

export interface RoleGrant {
  role: OperatorRole;
  /** Tenant slugs, for tenant-admin only. */
  tenants: readonly string[];
}

export type RoleMapParse = { ok: true; map: RoleMap } | { ok: false; problem: string };

export function parseRoleMap(text: string): RoleMapParse {
  const map = new Map<string, RoleGrant>();
  const entries = text.split(',').map((e) => e.trim());
  for (const [index, entry] of entries.entries()) {
    const fail = (problem: string): RoleMapParse => ({ ok: false, problem: `entry ${index + 1} ("${entry.slice(0, 80)}"): ${problem}` });
    if (!entry) return fail('empty entry (a stray comma?)');
    const parts = entry.split('=');
    if (parts.length !== 2) return fail('expected <claim value>=<role>');
    const value = parts[0]!.trim();
    const [roleText, tenantText, ...rest] = parts[1]!.split(':').map((p) => p.trim());
    if (!value) return fail('the claim value is empty');
    if (map.has(value)) return fail(`"${value}" is mapped twice`);
    const role = operatorRoleSchema.safeParse(roleText);
    if (!role.success) return fail(`unknown role "${roleText}"; expected one of ${operatorRoleSchema.options.join(', ')}`);
    if (rest.length) return fail('expected at most one ":"');
    if (role.data !== 'tenant-admin') {
      if (tenantText !== undefined) return fail(`${role.data} spans every tenant; name tenants only for tenant-admin`);
      map.set(value, { role: role.data, tenants: [] });
      continue;
    }
    if (!tenantText) return fail('tenant-admin needs its tenants, e.g. tenant-admin:acme or tenant-admin:acme+globex');
    const tenants = tenantText.split('+').map((t) => t.trim());
    const bad = tenants.find((t) => !tenantSlugSchema.safeParse(t).success);
    if (bad !== undefined) return fail(`"${bad}" is not a tenant slug`);
    map.set(value, { role: 'tenant-admin', tenants: [...new Set(tenants)].sort() });
  }
  return { ok: true, map };
}

/** Strongest first: an msp-admin can do all a tenant-admin can, and a tenant-admin works where an auditor only reads. */
const PRECEDENCE: readonly OperatorRole[] = ['msp-admin', 'tenant-admin', 'auditor'];

/**
 * The role the claim's values map to, or null when none does. An operator holds one role: with values
 * mapped to several, the strongest wins, and the tenants of every tenant-admin value are combined.
 */
export function resolveRole(map: RoleMap, values: readonly string[]): RoleGrant | null {
  const grants = values.flatMap((v) => map.get(v) ?? []);
  for (const role of PRECEDENCE) {
    const matching = grants.filter((g) => g.role === role);
    if (matching.length) return { role, tenants: [...new Set(matching.flatMap((g) => g.tenants))].sort() };
  }
  return null;
}
