import type { GrantState, RevokeReason } from './grant-state.js';
import { isLive } from './grant-state.js';
import { type DesiredEntitlement, type EndBound, earliestEnd, type Evaluation } from './evaluate.js';
import { isUnused } from '../lifecycle/inactivity.js';
import { addIsoDuration, parseIsoDuration } from './iso-duration.js';

/** What Lanyard already records for a user on one connector entitlement. */
export interface CurrentGrant {
  id: string;
  connector: string;
  entitlement: string;
  state: GrantState;
  endsAt: Date | null;
  /** The packages that asked for it, for reports. */
  packages?: string[];
  /** When it was requested: a package's maximum duration counts from here. */
  createdAt?: Date;
  endBound?: EndBound | null;
  approvalId?: string | null;
  /** When it was in place downstream. */
  startedAt?: Date | null;
}

/** The latest grant of an entitlement that ended by reaching its end, or for being unused. */
export interface ExpiredGrant {
  connector: string;
  entitlement: string;
  endsAt: Date;
  endBound: EndBound | null;
}

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'closed';

/** An approval request of one package for the user: the latest one, and the latest still in force. */
export interface ApprovalView {
  id: string;
  package: string;
  state: ApprovalState;
  requestedAt: Date;
  deadline: Date;
  decidedAt: Date | null;
  /** An approved request's own end. */
  endsAt: Date | null;
  needEndedAt: Date | null;
}

/** Emergency access to one entitlement, from an exception (already expanded from its package). */
export interface ExceptionEntitlement {
  exceptionId: string;
  connector: string;
  entitlement: string;
  startsAt: Date;
  endsAt: Date;
}

/** The inactivity rule, with the last activity of each account whose connector can report it. */
export interface InactivityContext {
  afterMs: number;
  lastActivity: ReadonlyMap<string, Date | null>;
}

export interface PlanContext {
  expired?: readonly ExpiredGrant[];
  inactivity?: InactivityContext;
  approvals?: readonly ApprovalView[];
  /** How long before an approval ends its renewal is asked for (the approvers' deadline), so it can extend in time. */
  renewalWindowMs?: number;
  exceptions?: readonly ExceptionEntitlement[];
}

export interface PlannedGrant {
  desired: DesiredEntitlement;
  endsAt: Date;
  endBound: EndBound;
  approvalId: string | null;
  exceptionId: string | null;
}

export interface PlannedRevoke {
  grant: CurrentGrant;
  reason: RevokeReason;
}

export interface PlannedEnd {
  grant: CurrentGrant;
  endsAt: Date;
  endBound: EndBound;
  approvalId: string | null;
}

export interface PlannedApprovalEnd {
  approval: ApprovalView;
  /** `cancelled` (pending, no longer needed), `closed` (approved, no longer needed), `expired` (deadline passed). */
  to: 'cancelled' | 'closed' | 'expired' | 'need_ended';
}

export interface Plan {
  grant: PlannedGrant[];
  revoke: PlannedRevoke[];
  /** Later ends from the IdP or a new approval; earlier ends from any limit. */
  extend: PlannedEnd[];
  shorten: PlannedEnd[];
  /** Packages that need an approval request (new, or a renewal of one that ended). */
  requestApproval: { package: string; desired: DesiredEntitlement[] }[];
  endApproval: PlannedApprovalEnd[];
  /** Wanted entitlements waiting for an approval decision, for reports. */
  awaitingApproval: DesiredEntitlement[];
}

/** One way an entitlement may be held now, with its end and what makes it new. */
interface Source {
  endsAt: Date;
  endBound: EndBound;
  approvalId: string | null;
  exceptionId: string | null;
  /** When this reason to hold it came about: a source newer than an expiry renews the access. */
  since: Date | null;
}

const key = (connector: string, entitlement: string) => `${connector}\u0000${entitlement}`;

/**
 * Desired access against recorded grants → the changes to make. Pure.
 *
 * - A wanted entitlement is held through a rule (straight away, or once an approval of its package is
 *   granted) or through emergency access; of several ways, the one that lasts longest counts.
 * - A live grant still wanted is kept. Its end is recomputed from its own start: a limit that moved earlier
 *   shortens it; only a later end date from the IdP or a new approval extends it. A package's maximum
 *   duration never renews itself.
 * - A live grant no longer wanted, or past its end, is revoked, with the reason the evaluation gives.
 * - A wanted entitlement without a live grant is granted, unless its last grant expired and nothing has
 *   renewed it since (a later end date, a new approval or exception, joining the group again).
 * - Grants that ended stay ended: access that is wanted again starts a new grant, so the history shows both.
 */
export function planChanges(evaluation: Evaluation, current: readonly CurrentGrant[], now: Date, context: PlanContext = {}): Plan {
  const live = new Map(current.filter((g) => isLive(g.state)).map((g) => [key(g.connector, g.entitlement), g]));
  const expired = new Map((context.expired ?? []).map((e) => [key(e.connector, e.entitlement), e]));
  const valid = (a: ApprovalView | undefined): a is ApprovalView => a?.state === 'approved' && a.endsAt !== null && a.endsAt > now;
  const latestBy = new Map<string, ApprovalView>();
  const approvals = new Map<string, ApprovalView>();
  for (const a of context.approvals ?? []) {
    const latest = latestBy.get(a.package);
    if (!latest || a.requestedAt > latest.requestedAt) latestBy.set(a.package, a);
    const inForce = approvals.get(a.package);
    if (valid(a) && (!inForce || a.endsAt! > inForce.endsAt!)) approvals.set(a.package, a);
  }
  const plan: Plan = { grant: [], revoke: [], extend: [], shorten: [], requestApproval: [], endApproval: [], awaitingApproval: [] };

  // Every entitlement the user may hold, and through what.
  const wanted = new Map<string, { desired: DesiredEntitlement | null; sources: (start: Date) => Source[] }>();
  for (const desired of evaluation.desired) {
    wanted.set(key(desired.connector, desired.entitlement), { desired, sources: (start) => ruleSources(desired, start, approvals, now) });
  }
  if (evaluation.status === 'eligible' || evaluation.status === 'quarantined') {
    for (const e of context.exceptions ?? []) {
      if (e.endsAt <= now) continue;
      const k = key(e.connector, e.entitlement);
      const entry = wanted.get(k);
      const exception: Source = { endsAt: e.endsAt, endBound: 'exception', approvalId: null, exceptionId: e.exceptionId, since: e.startsAt };
      if (entry) {
        const previous = entry.sources;
        entry.sources = (start) => [...previous(start), exception];
      } else {
        wanted.set(k, { desired: null, sources: () => [exception] });
      }
    }
  }

  const heldKeys = new Set<string>();
  for (const [k, { desired, sources }] of wanted) {
    const grant = live.get(k);
    const best = longest(sources(grant?.createdAt ?? now));
    if (!best) {
      if (desired) plan.awaitingApproval.push(desired);
      continue;
    }
    if (grant) {
      heldKeys.add(k);
      if (grant.endsAt === null || best.endsAt < grant.endsAt) {
        plan.shorten.push({ grant, endsAt: best.endsAt, endBound: best.endBound, approvalId: best.approvalId });
      } else if (best.endsAt > grant.endsAt && (best.endBound === 'user' || (best.endBound === 'approval' && best.approvalId !== grant.approvalId))) {
        plan.extend.push({ grant, endsAt: best.endsAt, endBound: best.endBound, approvalId: best.approvalId });
      }
      continue;
    }
    const last = expired.get(k);
    if (last && !renews(last, best, desired)) continue;
    plan.grant.push({ desired: desired ?? exceptionOnly(k, best), endsAt: best.endsAt, endBound: best.endBound, approvalId: best.approvalId, exceptionId: best.exceptionId });
  }

  const reason = revokeReason(evaluation);
  const inactivity = context.inactivity;
  for (const [k, grant] of live) {
    const ended = grant.endsAt !== null && grant.endsAt <= now;
    const unused =
      inactivity !== undefined &&
      inactivity.lastActivity.has(grant.connector) &&
      isUnused({ startedAt: grant.startedAt ?? null, lastActivityAt: inactivity.lastActivity.get(grant.connector) ?? null, afterMs: inactivity.afterMs, now });
    if (heldKeys.has(k) && !ended && !unused) continue;
    plan.revoke.push({ grant, reason: ended ? 'expired' : heldKeys.has(k) ? 'inactive' : reason });
  }
  // A grant on its way out keeps the end it had: moving it would only blur why it ended.
  const leaving = new Set(plan.revoke.map((r) => r.grant.id));
  plan.extend = plan.extend.filter((e) => !leaving.has(e.grant.id));
  plan.shorten = plan.shorten.filter((e) => !leaving.has(e.grant.id));

  // Approval requests: one per package that needs approval and is wanted without a valid approval.
  const needed = new Map<string, DesiredEntitlement[]>();
  for (const desired of evaluation.desired) {
    for (const r of desired.reasons) {
      if (!r.approvalRequired) continue;
      const list = needed.get(r.package) ?? [];
      if (!list.includes(desired)) list.push(desired);
      needed.set(r.package, list);
    }
  }
  for (const [pkg, desired] of needed) {
    const latest = latestBy.get(pkg);
    const inForce = approvals.get(pkg);
    if (inForce) {
      // In force: ask for its renewal in time for a decision before it ends, once; a renewal left
      // undecided past its deadline expires, and the access ends with the approval in force.
      if (latest === inForce && inForce.endsAt!.getTime() - now.getTime() <= (context.renewalWindowMs ?? 0)) plan.requestApproval.push({ package: pkg, desired });
      else if (latest?.state === 'pending' && latest.deadline <= now) plan.endApproval.push({ approval: latest, to: 'expired' });
      continue;
    }
    // Nothing to ask for when every entitlement of the package is held some other way.
    if (desired.every((d) => plan.grant.some((g) => g.desired === d) || heldKeys.has(key(d.connector, d.entitlement)))) continue;
    if (!latest) {
      plan.requestApproval.push({ package: pkg, desired });
    } else if (latest.state === 'pending') {
      if (latest.deadline <= now) plan.endApproval.push({ approval: latest, to: 'expired' });
    } else if (latest.state === 'approved' || latest.state === 'cancelled' || latest.state === 'closed') {
      // An approval that ran out asks for a renewal; a cancelled or closed one starts afresh.
      plan.requestApproval.push({ package: pkg, desired });
    } else if (latest.needEndedAt !== null) {
      // Denied or expired: asked again only once the need went away and came back.
      plan.requestApproval.push({ package: pkg, desired });
    }
  }
  for (const [pkg, latest] of latestBy) {
    if (needed.has(pkg)) continue;
    const inForce = approvals.get(pkg);
    if (inForce) plan.endApproval.push({ approval: inForce, to: 'closed' });
    if (latest.state === 'pending') plan.endApproval.push({ approval: latest, to: 'cancelled' });
    else if ((latest.state === 'denied' || latest.state === 'expired') && latest.needEndedAt === null) plan.endApproval.push({ approval: latest, to: 'need_ended' });
  }
  return plan;
}

/** The ways a rule-wanted entitlement may be held, for a grant starting at `start`. */
function ruleSources(desired: DesiredEntitlement, start: Date, approvals: Map<string, ApprovalView>, now: Date): Source[] {
  const sources: Source[] = [];
  for (const r of desired.reasons) {
    const duration = parseIsoDuration(r.maxDuration);
    if (!duration) continue;
    const { endsAt, bound } = earliestEnd(addIsoDuration(start, duration), desired.userEndsAt, desired.contractEndsAt);
    const since = r.group?.addedAt ?? null;
    if (!r.approvalRequired) {
      sources.push({ endsAt, endBound: bound, approvalId: null, exceptionId: null, since });
      continue;
    }
    const approval = approvals.get(r.package);
    if (approval?.state !== 'approved' || approval.endsAt === null || approval.endsAt <= now) continue;
    // An approval's end already counts the package's maximum duration from the decision: a renewal starts
    // the clock again. The user's end date and the contract still come first.
    const limited = earliestEnd(approval.endsAt, desired.userEndsAt, desired.contractEndsAt);
    sources.push({ endsAt: limited.endsAt, endBound: limited.bound === 'package' ? 'approval' : limited.bound, approvalId: approval.id, exceptionId: null, since: approval.decidedAt });
  }
  return sources;
}

function longest(sources: Source[]): Source | undefined {
  return sources.reduce<Source | undefined>((best, s) => (!best || s.endsAt > best.endsAt ? s : best), undefined);
}

/** Whether something happened after an expiry that justifies holding the entitlement again. */
function renews(last: ExpiredGrant, best: Source, desired: DesiredEntitlement | null): boolean {
  if (best.since !== null && best.since > last.endsAt) return true;
  if (last.endBound === 'user') return desired?.userEndsAt != null && desired.userEndsAt > last.endsAt;
  if (last.endBound === 'contract') return desired !== null && (desired.contractEndsAt === null || desired.contractEndsAt > last.endsAt);
  return false;
}

function exceptionOnly(k: string, best: Source): DesiredEntitlement {
  const [connector, entitlement] = k.split('\u0000') as [string, string];
  return { connector, entitlement, endsAt: best.endsAt, endsAtSetBy: 'package', userEndsAt: null, contractEndsAt: null, approvalRequired: false, reasons: [] };
}

function revokeReason(evaluation: Evaluation): RevokeReason {
  switch (evaluation.status) {
    case 'inactive':
      return 'deactivated';
    case 'quarantined':
      return 'quarantined';
    case 'ended':
      return 'expired';
    case 'offboarded':
      return 'offboarded';
    case 'unsponsored':
      return 'sponsor_removed';
    case 'eligible':
      return 'policy';
  }
}
