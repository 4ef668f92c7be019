import { DOWNSTREAM_LIVE, type RevokeReason } from '../policy/grant-state.js';
import { validDurationMs } from '../policy/iso-duration.js';
import type { CurrentGrant, PlannedRevoke } from '../policy/plan.js';
import { type BrakeSettings, DEFAULT_BRAKE, type PolicyDocument } from '../policy/policy-schema.js';
import { brakeState, logDeprovision } from '../store/holds-store.js';
import type { ReconcileInputs } from '../store/reconcile-inputs.js';
import type { Tx } from '../store/transaction.js';
import { brakeEngaged, isBraked } from './brake.js';

export interface BrakeOutcome {
  revoke: PlannedRevoke[];
  hold: PlannedRevoke[];
  /** Held grants to put back: the hold was rejected, or the IdP no longer asks for the deprovision. */
  restore: CurrentGrant[];
  /** A pending hold nothing waits on any more. */
  withdraw: string | null;
}

/**
 * Sorts the planned revocations through the mass-deprovision brake. Grants already held wait for their
 * hold's decision (released: revoked now; rejected: back to active). Counted revocations are held while
 * the brake is engaged; otherwise the deprovision is logged and goes ahead. An operator's rejection stands
 * until the IdP changes the user again.
 */
export async function throughBrake(db: Tx, tenantId: string, userId: string, inputs: ReconcileInputs, planned: readonly PlannedRevoke[], policy: PolicyDocument | undefined): Promise<BrakeOutcome> {
  const out: BrakeOutcome = { revoke: [], hold: [], restore: [], withdraw: null };
  const counted: PlannedRevoke[] = [];
  const revoking = new Set(planned.map((r) => r.grant.id));
  for (const r of planned) {
    const reason: RevokeReason = inputs.user ? r.reason : 'deleted';
    const grant = inputs.grants.find((g) => g.id === r.grant.id)!;
    if (grant.state === 'held') {
      // A planned end (expiry) does not wait for the hold; what the brake counts waits for its decision.
      if (!isBraked(reason) || (grant.holdState !== 'pending' && grant.holdState !== 'rejected')) out.revoke.push({ grant, reason });
      else if (grant.holdState === 'rejected') out.restore.push(grant);
      continue;
    }
    if (isBraked(reason) && DOWNSTREAM_LIVE.includes(grant.state)) counted.push({ grant, reason });
    else out.revoke.push({ grant, reason });
  }
  // Held grants still wanted: the deprovision was taken back.
  const stillHeld = inputs.grants.filter((g) => g.state === 'held' && !revoking.has(g.id));
  out.restore.push(...stillHeld);
  if (stillHeld.length && inputs.latestHold?.state === 'pending' && !inputs.grants.some((g) => g.state === 'held' && revoking.has(g.id))) out.withdraw = inputs.latestHold.id;

  if (counted.length === 0) return out;
  const latest = inputs.latestHold;
  if (latest?.state === 'rejected' && latest.decidedAt && inputs.userUpdatedAt && inputs.userUpdatedAt <= latest.decidedAt) return out;
  const settings: BrakeSettings = policy?.brake ?? DEFAULT_BRAKE;
  const state = await brakeState(db, tenantId, validDurationMs(settings.window));
  if (brakeEngaged(settings, state)) {
    out.hold.push(...counted);
  } else {
    await logDeprovision(db, tenantId, userId);
    out.revoke.push(...counted);
  }
  return out;
}
