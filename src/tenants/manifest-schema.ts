import { z } from 'zod';
import { tenantNameSchema, tenantSlugSchema } from './tenant.js';

/**
 * One file that describes a tenant: its name, contract end, connectors and policy. Secrets are never
 * inline: a secret field of a connector's configuration is a reference, `{ env: NAME }` or
 * `{ file: path }` (relative paths from the manifest's directory). Unknown keys are refused.
 */
export const secretReferenceSchema = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretReference = z.infer<typeof secretReferenceSchema>;

const date = z.string().refine((text) => /^\d{4}-\d{2}-\d{2}(T.+(Z|[+-]\d{2}:?\d{2}))?$/i.test(text) && !Number.isNaN(Date.parse(text)), {
  message: 'expected a date (2027-06-30) or a date-time with offset',
});

export const manifestSchema = z
  .object({
    version: z.literal(1),
    tenant: z
      .object({
        slug: tenantSlugSchema,
        name: tenantNameSchema.optional(),
        /** No grant of the tenant outlives it; `null` or absent: no contract end. */
        contractEnd: date.nullable().optional(),
      })
      .strict(),
    connectors: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and "-"'),
            kind: z.string().min(1),
            onDelete: z.enum(['remove', 'disable']).default('remove'),
            config: z.record(z.string(), z.unknown()),
          })
          .strict(),
      )
      .default([]),
    /** The policy file (relative to the manifest), or the policy itself inline. */
    policy: z.union([z.object({ file: z.string().min(1) }).strict(), z.object({ inline: z.string().min(1) }).strict()]).optional(),
  })
  .strict();

export type Manifest = z.output<typeof manifestSchema>;
