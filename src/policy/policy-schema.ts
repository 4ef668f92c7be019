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

/** Who may decide an approval request: the user's sponsor, the tenant's approvers, the MSP's security list. */
export const APPROVER_ROUTES = ['sponsor', 'tenant', 'msp'] as const;
export type ApproverRoute = (typeof APPROVER_ROUTES)[number];

/** An approver as named on the command line and in the API: an e-mail address or user name. */
const approver = z.string().trim().min(1).max(300);

/** Emergency access lasts hours, never days. */
const EMERGENCY_MAX_HOURS = 24;
const hoursDuration = isoDuration.refine((text) => {
  const d = parseIsoDuration(text);
  return d !== null && d.years === 0 && d.months === 0 && d.weeks === 0 && d.days * 24 + d.hours + d.minutes / 60 + d.seconds / 3600 <= EMERGENCY_MAX_HOURS;
}, `expected hours, at most PT${EMERGENCY_MAX_HOURS}H`);

const packageSchema = z
  .object({
    description: z.string().max(1000).optional(),
    /** Connector name → entitlements granted through it. */
    entitlements: z.record(name, z.array(entitlement).min(1)).refine((e) => Object.keys(e).length > 0, 'a package grants at least one entitlement'),
    maxDuration: isoDuration,
    dataScope: z.string().max(200).optional(),
    approval: z.enum(['required', 'none']).default('none'),
    /** Who may approve this package, when not the policy-wide `approvals.approvers`. */
    approvers: z.array(z.enum(APPROVER_ROUTES)).min(1).optional(),
  })
  .strict();

const approvalsSchema = z
  .object({
    /** Routes whose approvers may decide, by default the sponsor and the tenant's approvers. */
    approvers: z.array(z.enum(APPROVER_ROUTES)).min(1).default(['sponsor', 'tenant']),
    tenantApprovers: z.array(approver).default([]),
    mspApprovers: z.array(approver).default([]),
    /** A request not decided within this expires, and nothing is granted. */
    deadline: isoDuration.default('P7D'),
  })
  .strict();

/**
 * The mass-deprovision brake: once more than max(minimum, percent % of the tenant's users) users have lost
 * access within the window, further deprovisions are held for an operator (`lanyard holds`).
 */
/** The brake of a policy that does not set one, and of a tenant without a policy. */
export const DEFAULT_BRAKE = { enabled: true, window: 'PT1H', minimum: 50, percent: 5 } as const;

const brakeSchema = z
  .object({
    enabled: z.boolean().default(true),
    window: isoDuration.default('PT1H'),
    minimum: z.number().int().min(1).default(50),
    percent: z.number().min(0).max(100).default(5),
  })
  .strict();

const emergencySchema = z
  .object({
    /** The only packages emergency access may grant. */
    packages: z.array(name).min(1),
    maxDuration: hoursDuration,
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
    approvals: approvalsSchema.default({ approvers: ['sponsor', 'tenant'], tenantApprovers: [], mspApprovers: [], deadline: 'P7D' }),
    /** Emergency access (`lanyard exceptions grant`); absent, there is none. */
    emergency: emergencySchema.optional(),
    /**
     * Sponsor cascade: the sponsor intake attribute must name another active user of the tenant (by
     * userName). When it stops doing so, the user's access is revoked after `grace` (at once without one).
     */
    sponsorship: z.object({ grace: isoDuration.optional() }).strict().optional(),
    /**
     * Access unused for `after` is revoked (reason inactive), on connectors that can report an account's
     * last activity; on the others this rule cannot apply and does nothing.
     */
    inactivity: z.object({ after: isoDuration }).strict().optional(),
    brake: brakeSchema.default(DEFAULT_BRAKE),
  })
  .strict();

export type PolicyDocument = z.output<typeof policySchema>;
export type AccessPackage = PolicyDocument['packages'][string];
export type Rule = PolicyDocument['rules'][number];
export type GroupMatch = z.output<typeof groupMatch>;
export type ApprovalsSettings = PolicyDocument['approvals'];
export type BrakeSettings = PolicyDocument['brake'];
