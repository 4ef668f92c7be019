import { describe, expect, it } from 'vitest';
import type { DesiredEntitlement, Evaluation, GrantReason } from './evaluate.js';
import { canTransition, GRANT_STATES, isLive } from './grant-state.js';
import { type ApprovalView, type CurrentGrant, type ExpiredGrant, planChanges } from './plan.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const STARTED = new Date('2026-11-01T00:00:00Z');
const USER_END = new Date('2027-01-01T00:00:00Z');
const LATER_USER_END = new Date('2027-05-01T00:00:00Z');
const day = 86_400_000;

function reason(pkg: string, opts: { maxDuration?: string; approval?: boolean; addedAt?: Date } = {}): GrantReason {
  return {
    rule: 0,
    ruleName: undefined,
    package: pkg,
    group: { id: 'g', displayName: 'G', ...(opts.addedAt ? { addedAt: opts.addedAt } : {}) },
    maxDuration: opts.maxDuration ?? 'P90D',
    endsAt: NOW,
    approvalRequired: opts.approval ?? false,
  };
}
function desired(connector: string, entitlement: string, reasons: GrantReason[] = [reason('p')], limits: { user?: Date | null; contract?: Date | null } = {}): DesiredEntitlement {
  return { connector, entitlement, endsAt: NOW, endsAtSetBy: 'package', userEndsAt: limits.user ?? null, contractEndsAt: limits.contract ?? null, approvalRequired: reasons.every((r) => r.approvalRequired), reasons };
}
function grant(id: string, connector: string, entitlement: string, state: CurrentGrant['state'] = 'active', endsAt: Date | null = new Date(STARTED.getTime() + 90 * day), extra: Partial<CurrentGrant> = {}): CurrentGrant {
  return { id, connector, entitlement, state, endsAt, createdAt: STARTED, endBound: 'package', approvalId: null, ...extra };
}
function approval(pkg: string, state: ApprovalView['state'], extra: Partial<ApprovalView> = {}): ApprovalView {
  return { id: `a-${pkg}`, package: pkg, state, requestedAt: new Date(NOW.getTime() - day), deadline: new Date(NOW.getTime() + 7 * day), decidedAt: null, endsAt: null, needEndedAt: null, ...extra };
}
const eligible = (...d: DesiredEntitlement[]): Evaluation => ({ status: 'eligible', desired: d });
const nothing = { grant: [], revoke: [], extend: [], shorten: [], requestApproval: [], endApproval: [], awaitingApproval: [] };

describe('planChanges', () => {
  it('grants what is wanted and not held, ending at the earliest of package duration, user end and contract end', () => {
    const plan = planChanges(eligible(desired('pg', 'role:a'), desired('pg', 'role:b', [reason('p')], { user: USER_END }), desired('pg', 'role:c', [reason('p')], { user: USER_END, contract: new Date('2026-12-01T00:00:00Z') })), [], NOW);
    expect(plan.grant.map((g) => [g.desired.entitlement, g.endsAt.toISOString(), g.endBound])).toEqual([
      ['role:a', new Date(NOW.getTime() + 90 * day).toISOString(), 'package'],
      ['role:b', USER_END.toISOString(), 'user'],
      ['role:c', '2026-12-01T00:00:00.000Z', 'contract'],
    ]);
    expect(plan.revoke).toEqual([]);
  });

  it('keeps what is held and still wanted: repeating a plan changes nothing', () => {
    expect(planChanges(eligible(desired('pg', 'role:a')), [grant('g1', 'pg', 'role:a')], NOW)).toEqual(nothing);
  });

  it('counts grants on their way (provisioning, failed, held) as held', () => {
    for (const state of ['requested', 'provisioning', 'failed', 'held'] as const) {
      expect(planChanges(eligible(desired('pg', 'role:a')), [grant('g1', 'pg', 'role:a', state)], NOW).grant, state).toEqual([]);
    }
  });

  it('revokes what is no longer wanted, with the reason the evaluation gives', () => {
    const held = [grant('g1', 'pg', 'role:a'), grant('g2', 'pg', 'role:b')];
    expect(planChanges(eligible(desired('pg', 'role:a')), held, NOW).revoke).toEqual([{ grant: held[1], reason: 'policy' }]);
    expect(planChanges({ status: 'inactive', desired: [] }, held, NOW).revoke.map((r) => r.reason)).toEqual(['deactivated', 'deactivated']);
    expect(planChanges({ status: 'quarantined', missing: ['sponsor'], desired: [] }, held, NOW).revoke[0]!.reason).toBe('quarantined');
    expect(planChanges({ status: 'ended', desired: [] }, held, NOW).revoke[0]!.reason).toBe('expired');
  });

  it('revokes a grant whose end has passed as expired, even when still wanted, and leaves its end as it was', () => {
    const plan = planChanges(eligible(desired('pg', 'role:a')), [grant('g1', 'pg', 'role:a', 'active', new Date(NOW.getTime() - 1))], NOW);
    expect(plan.revoke).toEqual([{ grant: expect.objectContaining({ id: 'g1' }), reason: 'expired' }]);
    // Counted from a start long ago, the package would end even earlier: no shortening of a grant on its way out.
    const old = grant('g2', 'pg', 'role:a', 'active', new Date(NOW.getTime() - 1), { createdAt: new Date(NOW.getTime() - 200 * day) });
    expect(planChanges(eligible(desired('pg', 'role:a')), [old], NOW)).toMatchObject({ revoke: [{ reason: 'expired' }], shorten: [], extend: [] });
  });

  it('extends a grant only for a later end date from the IdP', () => {
    const held = [grant('g1', 'pg', 'role:a', 'active', USER_END, { endBound: 'user' })];
    const plan = planChanges(eligible(desired('pg', 'role:a', [reason('p', { maxDuration: 'P1Y' })], { user: LATER_USER_END })), held, NOW);
    expect(plan.extend).toEqual([{ grant: held[0], endsAt: LATER_USER_END, endBound: 'user', approvalId: null }]);
  });

  it('never renews a package duration: its end counts from the grant’s own start', () => {
    const held = [grant('g1', 'pg', 'role:a')];
    // Evaluated today, P90D would end later than the grant does; the grant keeps the end it had.
    expect(planChanges(eligible(desired('pg', 'role:a')), held, NOW)).toEqual(nothing);
    // A contract end moved later extends nothing either.
    const bound = [grant('g2', 'pg', 'role:a', 'active', new Date('2026-12-01T00:00:00Z'), { endBound: 'contract' })];
    expect(planChanges(eligible(desired('pg', 'role:a', [reason('p')], { contract: new Date('2027-06-01T00:00:00Z') })), bound, NOW).extend).toEqual([]);
  });

  it('shortens a grant when a limit moved earlier: an earlier end date, a shorter package, a contract end', () => {
    const held = [grant('g1', 'pg', 'role:a', 'active', USER_END, { endBound: 'user' })];
    const earlier = new Date('2026-12-15T00:00:00Z');
    expect(planChanges(eligible(desired('pg', 'role:a', [reason('p', { maxDuration: 'P1Y' })], { user: earlier })), held, NOW).shorten).toEqual([
      { grant: held[0], endsAt: earlier, endBound: 'user', approvalId: null },
    ]);
    const shorter = planChanges(eligible(desired('pg', 'role:a', [reason('p', { maxDuration: 'P30D' })])), [grant('g2', 'pg', 'role:a')], NOW);
    expect(shorter.shorten.map((s) => s.endsAt)).toEqual([new Date(STARTED.getTime() + 30 * day)]);
  });

  it('does not grant again what expired, until something renews it', () => {
    const expiredAt = new Date(NOW.getTime() - day);
    const expired: ExpiredGrant[] = [{ connector: 'pg', entitlement: 'role:a', endsAt: expiredAt, endBound: 'package' }];
    const stillInGroup = desired('pg', 'role:a', [reason('p', { addedAt: new Date(expiredAt.getTime() - 100 * day) })]);
    expect(planChanges(eligible(stillInGroup), [], NOW, { expired }).grant).toEqual([]);
    // Joining the group again after the expiry renews it.
    const rejoined = desired('pg', 'role:a', [reason('p', { addedAt: new Date(expiredAt.getTime() + 1000) })]);
    expect(planChanges(eligible(rejoined), [], NOW, { expired }).grant).toHaveLength(1);
    // An end date from the IdP that passed comes back only with a later end date.
    const byUser: ExpiredGrant[] = [{ connector: 'pg', entitlement: 'role:a', endsAt: expiredAt, endBound: 'user' }];
    expect(planChanges(eligible(desired('pg', 'role:a', [reason('p')], { user: expiredAt })), [], new Date(expiredAt.getTime() - 1), { expired: byUser }).grant).toEqual([]);
    expect(planChanges(eligible(desired('pg', 'role:a', [reason('p')], { user: LATER_USER_END })), [], NOW, { expired: byUser }).grant).toHaveLength(1);
  });

  it('asks for approval instead of granting, grants once approved with the approval’s end, and cancels when the need goes', () => {
    const needsApproval = desired('crm', 'group:V', [reason('crm-viewer', { approval: true })]);
    const first = planChanges(eligible(needsApproval), [], NOW);
    expect(first.grant).toEqual([]);
    expect(first.requestApproval).toEqual([{ package: 'crm-viewer', desired: [needsApproval] }]);
    expect(first.awaitingApproval).toEqual([needsApproval]);

    // Pending: nothing new is asked; past its deadline it expires.
    expect(planChanges(eligible(needsApproval), [], NOW, { approvals: [approval('crm-viewer', 'pending')] })).toEqual({ ...nothing, awaitingApproval: [needsApproval] });
    const late = approval('crm-viewer', 'pending', { deadline: new Date(NOW.getTime() - 1) });
    expect(planChanges(eligible(needsApproval), [], NOW, { approvals: [late] }).endApproval).toEqual([{ approval: late, to: 'expired' }]);

    const approvedEnd = new Date(NOW.getTime() + 30 * day);
    const approved = approval('crm-viewer', 'approved', { decidedAt: NOW, endsAt: approvedEnd });
    const granted = planChanges(eligible(needsApproval), [], NOW, { approvals: [approved] });
    expect(granted.grant.map((g) => [g.endsAt, g.endBound, g.approvalId])).toEqual([[approvedEnd, 'approval', 'a-crm-viewer']]);

    expect(planChanges(eligible(), [], NOW, { approvals: [approval('crm-viewer', 'pending')] }).endApproval.map((e) => e.to)).toEqual(['cancelled']);
    expect(planChanges(eligible(), [], NOW, { approvals: [approved] }).endApproval.map((e) => e.to)).toEqual(['closed']);
  });

  it('asks for a renewal in time, and a renewal approved before the end extends the grant', () => {
    const needsApproval = desired('crm', 'group:V', [reason('crm-viewer', { approval: true, maxDuration: 'P1Y' })]);
    const soon = new Date(NOW.getTime() + 3 * day);
    const current = approval('crm-viewer', 'approved', { id: 'a1', decidedAt: new Date(NOW.getTime() - 27 * day), endsAt: soon });
    const held = [grant('g1', 'crm', 'group:V', 'active', soon, { endBound: 'approval', approvalId: 'a1' })];
    expect(planChanges(eligible(needsApproval), held, NOW, { approvals: [current], renewalWindowMs: 7 * day }).requestApproval.map((r) => r.package)).toEqual(['crm-viewer']);
    expect(planChanges(eligible(needsApproval), held, NOW, { approvals: [current], renewalWindowMs: 2 * day }).requestApproval).toEqual([]);
    // The renewal waits: the access continues under the approval in force, nothing more is asked.
    const renewal = approval('crm-viewer', 'pending', { id: 'a2', requestedAt: NOW });
    expect(planChanges(eligible(needsApproval), held, NOW, { approvals: [current, renewal], renewalWindowMs: 7 * day })).toEqual(nothing);
    // Approved: the grant is extended to the renewal's end.
    const later = new Date(NOW.getTime() + 30 * day);
    const renewed = { ...renewal, state: 'approved' as const, decidedAt: NOW, endsAt: later };
    expect(planChanges(eligible(needsApproval), held, NOW, { approvals: [current, renewed], renewalWindowMs: 7 * day }).extend).toEqual([
      { grant: held[0], endsAt: later, endBound: 'approval', approvalId: 'a2' },
    ]);
  });

  it('does not ask again after a denial until the need went away and came back', () => {
    const needsApproval = desired('crm', 'group:V', [reason('crm-viewer', { approval: true })]);
    const denied = approval('crm-viewer', 'denied', { decidedAt: NOW });
    expect(planChanges(eligible(needsApproval), [], NOW, { approvals: [denied] }).requestApproval).toEqual([]);
    expect(planChanges(eligible(), [], NOW, { approvals: [denied] }).endApproval).toEqual([{ approval: denied, to: 'need_ended' }]);
    expect(planChanges(eligible(needsApproval), [], NOW, { approvals: [{ ...denied, needEndedAt: NOW }] }).requestApproval).toHaveLength(1);
  });

  it('grants emergency access for its hours, outside the rules, and lets it end', () => {
    const exceptions = [{ exceptionId: 'x1', connector: 'pg', entitlement: 'role:admin', startsAt: NOW, endsAt: new Date(NOW.getTime() + 4 * 3_600_000) }];
    const plan = planChanges(eligible(), [], NOW, { exceptions });
    expect(plan.grant.map((g) => [g.desired.entitlement, g.endBound, g.exceptionId])).toEqual([['role:admin', 'exception', 'x1']]);
    expect(planChanges({ status: 'inactive', desired: [] }, [], NOW, { exceptions }).grant).toEqual([]);
  });

  it('leaves ended grants alone: access wanted again starts a new grant', () => {
    const history = [grant('old', 'pg', 'role:a', 'revoked'), grant('older', 'pg', 'role:a', 'revoking')];
    const plan = planChanges(eligible(desired('pg', 'role:a')), history, NOW);
    expect(plan.grant).toHaveLength(1);
    expect(plan.revoke).toEqual([]);
  });
});

describe('grant states', () => {
  it('move forward only, and revoked is final', () => {
    expect(canTransition('requested', 'provisioning')).toBe(true);
    expect(canTransition('active', 'revoking')).toBe(true);
    expect(canTransition('revoking', 'revoked')).toBe(true);
    expect(canTransition('active', 'provisioning')).toBe(false);
    expect(canTransition('revoked', 'active')).toBe(false);
    for (const to of GRANT_STATES) expect(canTransition('revoked', to)).toBe(false);
    expect(isLive('revoking')).toBe(false);
    expect(isLive('held')).toBe(true);
  });
});

describe('planChanges with an inactivity rule', () => {
  const inactivity = (last: Date | null) => ({ afterMs: 30 * day, lastActivity: new Map([['pg', last]]) });
  const started = (days: number) => grant('g1', 'pg', 'role:a', 'active', new Date(NOW.getTime() + 60 * day), { startedAt: new Date(NOW.getTime() - days * day) });

  it('revokes a grant unused for the period, with reason inactive', () => {
    expect(planChanges(eligible(desired('pg', 'role:a')), [started(40)], NOW, { inactivity: inactivity(new Date(NOW.getTime() - 35 * day)) }).revoke.map((r) => r.reason)).toEqual(['inactive']);
    expect(planChanges(eligible(desired('pg', 'role:a')), [started(40)], NOW, { inactivity: inactivity(null) }).revoke.map((r) => r.reason)).toEqual(['inactive']);
  });

  it('keeps a grant used within the period, one younger than the period, and one whose connector cannot tell', () => {
    expect(planChanges(eligible(desired('pg', 'role:a')), [started(40)], NOW, { inactivity: inactivity(new Date(NOW.getTime() - 5 * day)) }).revoke).toEqual([]);
    expect(planChanges(eligible(desired('pg', 'role:a')), [started(10)], NOW, { inactivity: inactivity(null) }).revoke).toEqual([]);
    expect(planChanges(eligible(desired('pg', 'role:a')), [started(40)], NOW, { inactivity: { afterMs: 30 * day, lastActivity: new Map() } }).revoke).toEqual([]);
  });
});
