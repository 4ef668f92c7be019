import { z } from 'zod';

export const postgresConfigSchema = z
  .object({
    /**
     * Connection of a role allowed to create roles and grant the grantable ones (CREATEROLE, or superuser).
     * Secret: it usually carries a password.
     */
    url: z.string().refine((text) => /^postgres(ql)?:\/\//.test(text), 'expected a postgres:// URL'),
    /** Prefix of every login role Lanyard creates; roles without it are never touched. */
    rolePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,19}$/, 'expected 1–20 characters of a-z, 0-9 and "_", starting with a letter')
      .default('lanyard_'),
    /**
     * The roles that may be granted, by name. Absent: every role that cannot log in and carries no
     * dangerous attribute (superuser, createrole, createdb, replication, bypassrls).
     */
    grantableRoles: z.array(z.string().min(1).max(63)).optional(),
    /** End the sessions of a disabled account at once, instead of letting them run to their end. */
    terminateSessions: z.boolean().default(true),
  })
  .strict();

export type PostgresConfig = z.output<typeof postgresConfigSchema>;
