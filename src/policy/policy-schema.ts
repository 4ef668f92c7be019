import { z } from 'zod';
import { parseIsoDuration } from './iso-duration.js';

/**
 * The policy file, version 1. Every key is checked; unknown keys are refused (a typo in a policy must not
 * silently widen or narrow access). Types are inferred from these schemas.
 */
export const INTAKE_ATTRIBUTES = ['organization', 'sponsor', 'useCase', 'dataScope', 'accessEndDate'] as const;
export type IntakeAttribute = (typeof INTAKE_ATTRIBUTES)[number];

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and "-"');

const isoDuration = z.string().refine((text) => parseIsoDuration(text) !== null, {
  message: 'expected an ISO 8601 duration such as P90D, P6M or PT12H',
});

/** A SCIM attribute path the intake value is read from, e.g. `urn:…:enterprise:2.0:User:organization`. */
const attributePath = z.string().min(1).max(300);

const entitlement = z.string().min(1).max(300);

const packageSchema = z
  .object({
    description: z.string().max(1000).optional(),
    /** Connector name → entitlements granted through it. */
    entitlements: z.record(name, z.array(entitlement).min(1)).refine((e) => Object.keys(e).length > 0, 'a package grants at least one entitlement'),
    maxDuration: isoDuration,
    dataScope: z.string().max(200).optional(),
    approval: z.enum(['required', 'none']).default('none'),
  })
  .strict();

const valueMatch = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const groupMatch = z.union([
  z.string().min(1),
  z.object({ displayName: z.string().min(1) }).strict(),
  z.object({ externalId: z.string().min(1) }).strict(),
  z.object({ id: z.string().uuid() }).strict(),
]);

const ruleSchema = z
  .object({
    name: z.string().max(200).optional(),
    when: z
      .object({
        group: groupMatch.optional(),
        /** Attribute name (intake attribute or SCIM path) → required value, or one of a list. */
        user: z.record(z.string().min(1), valueMatch).optional(),
      })
      .strict()
      .refine((w) => w.group !== undefined || w.user !== undefined, 'a rule needs a group or user condition'),
    grant: z.array(name).min(1),
  })
  .strict();

export const policySchema = z
  .object({
    version: z.literal(1),
    /** The connectors this policy may use; when given, every package must stay within it. */
    connectors: z.array(name).optional(),
    intake: z
      .object({
        required: z.array(z.enum(INTAKE_ATTRIBUTES)).default([]),
        /** Where an intake attribute comes from when the Lanyard extension does not carry it. */
        from: z.partialRecord(z.enum(INTAKE_ATTRIBUTES), attributePath).default({}),
      })
      .strict()
      .default({ required: [], from: {} }),
    packages: z.record(name, packageSchema),
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

export type PolicyDocument = z.output<typeof policySchema>;
export type AccessPackage = PolicyDocument['packages'][string];
export type Rule = PolicyDocument['rules'][number];
export type GroupMatch = z.output<typeof groupMatch>;
