import { z } from 'zod';

/**
 * The MSP's operator roles. `msp-admin` acts on every tenant; `tenant-admin` administers the tenants it is
 * given, and only those; `auditor` reads evidence and the audit trail of every tenant and changes nothing.
 */
export const OPERATOR_ROLES = ['msp-admin', 'tenant-admin', 'auditor'] as const;
export const operatorRoleSchema = z.enum(OPERATOR_ROLES);
export type OperatorRole = z.infer<typeof operatorRoleSchema>;

/** Names of operator keys: they appear in actor strings and logs, so a plain character set. */
export const operatorKeyNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'a key name is 1–100 characters of letters, digits, ".", "_", "@" and "-", starting with a letter or digit');

/** Who is calling the admin API, however they proved it. */
export interface Operator {
  /** The key id, or the token's `sub`. */
  id: string;
  /** The key's name, or the token's `preferred_username`/`email`/`sub`. */
  name: string;
  via: 'api-key' | 'oidc';
  role: OperatorRole;
  /** Tenant slugs a tenant-admin administers; `all` for the roles that span every tenant. */
  tenants: readonly string[] | 'all';
}

/** The actor recorded in audit events for what an operator does through the admin API. */
export function operatorActor(operator: Operator): string {
  return `operator:${operator.via === 'api-key' ? 'key' : 'oidc'}:${operator.name}`;
}
