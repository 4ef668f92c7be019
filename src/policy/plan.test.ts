import { describe, expect, it } from 'vitest';
import type { DesiredEntitlement, Evaluation } from './evaluate.js';
import { canTransition, GRANT_STATES, isLive } from './grant-state.js';
import { type CurrentGrant, planChanges } from './plan.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const LATER = new Date('2027-02-01T00:00:00Z');
const EVEN_LATER = new Date('2027-05-01T00:00:00Z');

function desired(connector: string, entitlement: string, endsAt = LATER, approvalRequired = false, endsAtSetBy: 'user' | 'package' = 'user'): DesiredEntitlement {
  return { connector, entitlement, endsAt, endsAtSetBy, approvalRequired, reasons: [] };
}
function grant(id: string, connector: string, entitlement: string, state: CurrentGrant['state'] = 'active', endsAt: Date | null = LATER): CurrentGrant {
  return { id, connector, entitlement, state, endsAt };
}
const eligible = (...d: DesiredEntitlement[]): Evaluation => ({ status: 'eligible', desired: d });

describe('planChanges', () => {
  it('grants what is wanted and not held, through approval when every reason needs it', () => {
    const plan = planChanges(eligible(desired('pg', 'role:a'), desired('crm', 'group:V', LATER, true)), [], NOW);
    expect(plan.grant.map((g) => [g.desired.entitlement, g.start])).toEqual([
      ['role:a', 'provisioning'],
      ['group:V', 'awaiting_approval'],
    ]);
    expect(plan.revoke).toEqual([]);
  });

  it('keeps what is held and still wanted: repeating a plan changes nothing', () => {
    const held = [grant('g1', 'pg', 'role:a')];
    expect(planChanges(eligible(desired('pg', 'role:a')), held, NOW)).toEqual({ grant: [], revoke: [], extend: [] });
  });

  it('counts grants on their way (awaiting approval, provisioning, failed, held) as held', () => {
    for (const state of ['requested', 'awaiting_approval', 'provisioning', 'failed', 'held'] as const) {
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

  it('revokes a grant whose end has passed as expired, even when still wanted', () => {
    const past = new Date('2026-11-01T00:00:00Z');
    const plan = planChanges(eligible(desired('pg', 'role:a', past)), [grant('g1', 'pg', 'role:a', 'active', past)], NOW);
    expect(plan.revoke).toEqual([{ grant: expect.objectContaining({ id: 'g1' }), reason: 'expired' }]);
  });

  it('extends a grant when its end moved later, never earlier', () => {
    const held = [grant('g1', 'pg', 'role:a', 'active', LATER)];
    expect(planChanges(eligible(desired('pg', 'role:a', EVEN_LATER)), held, NOW).extend).toEqual([{ grant: held[0], endsAt: EVEN_LATER }]);
    expect(planChanges(eligible(desired('pg', 'role:a', new Date('2026-12-24T00:00:00Z'))), held, NOW).extend).toEqual([]);
  });

  it('does not extend a grant because the package duration, counted from now, ends later than it did', () => {
    const held = [grant('g1', 'pg', 'role:a', 'active', LATER)];
    expect(planChanges(eligible(desired('pg', 'role:a', EVEN_LATER, false, 'package')), held, NOW).extend).toEqual([]);
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
