import { z } from 'zod';

/**
 * One audit event as recorded. It names who did what to which resource and which attributes changed, never
 * the attributes' values: the trail must be safe to hand to an auditor and must not become a copy of the
 * directory.
 */
export const auditEventSchema = z.object({
  /** `scim-token:<id>` for an IdP, `operator:<name>` for the CLI or admin API, `system` for Lanyard itself. */
  actor: z.string().min(1).max(200),
  /** `<resource>.<verb>`, e.g. `user.created`, `group.members_changed`, `token.issued`. */
  action: z.string().regex(/^[a-z_]+\.[a-z_]+$/),
  resourceType: z.enum(['tenant', 'scim_token', 'user', 'group', 'policy', 'grant', 'connector', 'account', 'approval', 'exception', 'hold']),
  resourceId: z.string().max(200).nullable(),
  /** Names of the attributes the change touched (`name.givenName`, `urn:…:User:department`). */
  attributes: z.array(z.string().max(300)).default([]),
  /** Ids and counts only. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])).default({}),
});

export type AuditEventInput = z.input<typeof auditEventSchema>;
export type AuditEvent = z.output<typeof auditEventSchema>;
