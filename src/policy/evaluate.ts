import { addValidDuration } from './iso-duration.js';
import type { GroupMatch, IntakeAttribute, PolicyDocument } from './policy-schema.js';
import { INTAKE_ATTRIBUTES } from './policy-schema.js';
import type { UserFacts } from './user-facts.js';

export interface GroupFacts {
  id: string;
  displayName: string;
  externalId: string | null;
  /** When the user joined the group: joining again after access expired renews it. */
  addedAt?: Date;
}

/** What set a grant's end: the earliest of its limits. */
export type EndBound = 'package' | 'user' | 'contract' | 'approval' | 'exception';

/** Limits that hold for the tenant as a whole. */
export interface TenantLimits {
  contractEndsAt: Date | null;
}

/** Why an entitlement is wanted: one rule, through one package, matched by one group (if the rule names one). */
export interface GrantReason {
  rule: number;
  ruleName: string | undefined;
  package: string;
  group: { id: string; displayName: string; addedAt?: Date } | undefined;
  /** The package's maximum duration (ISO 8601), counted from a grant's start. */
  maxDuration: string;
  endsAt: Date;
  approvalRequired: boolean;
}

export interface DesiredEntitlement {
  connector: string;
  entitlement: string;
  /** The latest end among the reasons, for a grant starting now: access is justified while any reason holds. */
  endsAt: Date;
  /**
   * What set that end: the user's access end date, the tenant's contract end, or the package's maximum
   * duration counted from now. Only the first two are real dates; the last slides with every evaluation.
   */
  endsAtSetBy: 'user' | 'package' | 'contract';
  /** The user's access end date and the tenant's contract end, when there are. */
  userEndsAt: Date | null;
  contractEndsAt: Date | null;
  /** True only when every reason needs approval: one reason without it is enough to grant. */
  approvalRequired: boolean;
  reasons: GrantReason[];
}

export type Evaluation =
  | { status: 'eligible'; desired: DesiredEntitlement[] }
  /** Deactivated by the IdP: holds nothing. */
  | { status: 'inactive'; desired: [] }
  /** Missing or unreadable intake attributes: holds nothing until the IdP sends them. */
  | { status: 'quarantined'; missing: IntakeAttribute[]; desired: [] }
  /** The user's access end date, or the tenant's contract, has passed. */
  | { status: 'ended'; desired: [] }
  /** The tenant was offboarded: nobody holds anything. */
  | { status: 'offboarded'; desired: [] }
  /** The user's sponsor lapsed and the grace period is over. */
  | { status: 'unsponsored'; desired: [] };

/**
 * What a user should hold under a policy, now. Pure: the same inputs always give the same answer, so a plan
 * can be computed, shown and tested without touching anything.
 */
export function evaluate(user: UserFacts, groups: readonly GroupFacts[], policy: PolicyDocument, now: Date, tenant: TenantLimits = { contractEndsAt: null }): Evaluation {
  if (!user.active) return { status: 'inactive', desired: [] };

  const endDate = user.intake.accessEndDate === undefined ? undefined : parseDate(user.intake.accessEndDate);
  const missing = policy.intake.required.filter(
    (key) => user.intake[key] === undefined || (key === 'accessEndDate' && endDate === null),
  );
  if (missing.length > 0) return { status: 'quarantined', missing: orderIntake(missing), desired: [] };
  if (endDate && endDate.getTime() <= now.getTime()) return { status: 'ended', desired: [] };
  const contractEnd = tenant.contractEndsAt;
  if (contractEnd && contractEnd.getTime() <= now.getTime()) return { status: 'ended', desired: [] };

  const wanted = new Map<string, DesiredEntitlement>();
  policy.rules.forEach((rule, index) => {
    const group = rule.when.group === undefined ? undefined : groups.find((g) => groupMatches(g, rule.when.group!));
    if (rule.when.group !== undefined && !group) return;
    if (!userMatches(user, rule.when.user ?? {})) return;
    for (const packageName of rule.grant) {
      const pkg = policy.packages[packageName]!;
      const { endsAt, bound: endsAtSetBy } = earliestEnd(addValidDuration(now, pkg.maxDuration), endDate ?? null, contractEnd);
      const reason: GrantReason = {
        rule: index,
        ruleName: rule.name,
        package: packageName,
        group: group ? { id: group.id, displayName: group.displayName, ...(group.addedAt ? { addedAt: group.addedAt } : {}) } : undefined,
        maxDuration: pkg.maxDuration,
        endsAt,
        approvalRequired: pkg.approval === 'required',
      };
      for (const [connector, entitlements] of Object.entries(pkg.entitlements)) {
        for (const entitlement of entitlements) {
          const key = `${connector}\u0000${entitlement}`;
          const existing = wanted.get(key);
          if (!existing) {
            wanted.set(key, { connector, entitlement, endsAt, endsAtSetBy, userEndsAt: endDate ?? null, contractEndsAt: contractEnd, approvalRequired: reason.approvalRequired, reasons: [reason] });
          } else {
            existing.reasons.push(reason);
            if (endsAt > existing.endsAt) {
              existing.endsAt = endsAt;
              existing.endsAtSetBy = endsAtSetBy;
            }
            existing.approvalRequired &&= reason.approvalRequired;
          }
        }
      }
    }
  });
  const desired = [...wanted.values()].sort((a, b) =>
    a.connector === b.connector ? compare(a.entitlement, b.entitlement) : compare(a.connector, b.connector),
  );
  return { status: 'eligible', desired };
}

/**
 * The earliest of a package's end, the user's access end date and the tenant's contract end, and which of
 * them it is. On a tie the real date wins, so that the end can be moved by whoever owns it.
 */
export function earliestEnd(byPackage: Date, userEnd: Date | null, contractEnd: Date | null): { endsAt: Date; bound: 'package' | 'user' | 'contract' } {
  let best: { endsAt: Date; bound: 'package' | 'user' | 'contract' } = { endsAt: byPackage, bound: 'package' };
  if (userEnd && userEnd <= best.endsAt) best = { endsAt: userEnd, bound: 'user' };
  if (contractEnd && contractEnd < best.endsAt) best = { endsAt: contractEnd, bound: 'contract' };
  return best;
}

function groupMatches(group: GroupFacts, match: GroupMatch): boolean {
  if (typeof match === 'string') return group.displayName.toLowerCase() === match.toLowerCase();
  if ('displayName' in match) return group.displayName.toLowerCase() === match.displayName.toLowerCase();
  if ('externalId' in match) return group.externalId === match.externalId;
  return group.id === match.id.toLowerCase();
}

/** Every condition must hold; a list allows any of its values. Values compare case-insensitively. */
function userMatches(user: UserFacts, conditions: Record<string, string | string[]>): boolean {
  return Object.entries(conditions).every(([attribute, expected]) => {
    const intakeKey = INTAKE_ATTRIBUTES.find((k) => k.toLowerCase() === attribute.toLowerCase());
    const actual = intakeKey ? user.intake[intakeKey] : user.attribute(attribute);
    if (actual === undefined) return false;
    const allowed = Array.isArray(expected) ? expected : [expected];
    return allowed.some((value) => value.toLowerCase() === actual.toLowerCase());
  });
}

function parseDate(text: string): Date | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function orderIntake(keys: IntakeAttribute[]): IntakeAttribute[] {
  return INTAKE_ATTRIBUTES.filter((k) => keys.includes(k));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
