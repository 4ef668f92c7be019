import type { GrantState, RevokeReason } from './grant-state.js';
import { isLive } from './grant-state.js';
import type { DesiredEntitlement, Evaluation } from './evaluate.js';

/** What Lanyard already records for a user on one connector entitlement. */
export interface CurrentGrant {
  id: string;
  connector: string;
  entitlement: string;
  state: GrantState;
  endsAt: Date | null;
  /** The packages that asked for it, for reports. */
  packages?: string[];
}

export interface PlannedGrant {
  desired: DesiredEntitlement;
  /** `awaiting_approval` when every reason needs approval, else straight to provisioning. */
  start: 'provisioning' | 'awaiting_approval';
}

export interface PlannedRevoke {
  grant: CurrentGrant;
  reason: RevokeReason;
}

export interface PlannedExtension {
  grant: CurrentGrant;
  endsAt: Date;
}

export interface Plan {
  grant: PlannedGrant[];
  revoke: PlannedRevoke[];
  /** Later end dates pushed by the IdP; never earlier, which would be a revoke in disguise. */
  extend: PlannedExtension[];
}

/**
 * Desired access against recorded grants → the changes to make. Pure. A live grant that is still wanted is
 * kept (and extended when its end moved later); a live grant no longer wanted is revoked with the reason the
 * evaluation gives; a wanted entitlement without a live grant is granted. Grants that ended stay ended:
 * access that is wanted again starts a new grant, so the history shows both.
 */
export function planChanges(evaluation: Evaluation, current: readonly CurrentGrant[], now: Date): Plan {
  const key = (connector: string, entitlement: string) => `${connector}\u0000${entitlement}`;
  const live = new Map(current.filter((g) => isLive(g.state)).map((g) => [key(g.connector, g.entitlement), g]));
  const plan: Plan = { grant: [], revoke: [], extend: [] };
  const wanted = new Set<string>();

  for (const desired of evaluation.desired) {
    const k = key(desired.connector, desired.entitlement);
    wanted.add(k);
    const grant = live.get(k);
    if (!grant) {
      plan.grant.push({ desired, start: desired.approvalRequired ? 'awaiting_approval' : 'provisioning' });
    } else if (grant.endsAt !== null && desired.endsAt > grant.endsAt && desired.endsAtSetBy === 'user') {
      // Only a later end date from the IdP extends a grant. A package's maximum duration counted from now
      // would move later at every evaluation and renew access forever.
      plan.extend.push({ grant, endsAt: desired.endsAt });
    }
  }

  const reason = revokeReason(evaluation);
  for (const [k, grant] of live) {
    if (wanted.has(k)) {
      // Still wanted, but its own end has passed: the end date decides, not the wish.
      if (grant.endsAt !== null && grant.endsAt <= now) plan.revoke.push({ grant, reason: 'expired' });
      continue;
    }
    plan.revoke.push({ grant, reason: grant.endsAt !== null && grant.endsAt <= now ? 'expired' : reason });
  }
  return plan;
}

function revokeReason(evaluation: Evaluation): RevokeReason {
  switch (evaluation.status) {
    case 'inactive':
      return 'deactivated';
    case 'quarantined':
      return 'quarantined';
    case 'ended':
      return 'expired';
    case 'eligible':
      return 'policy';
  }
}
