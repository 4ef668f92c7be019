/**
 * The life of a grant (DESIGN.md): one entitlement held by one user through one connector. Grant rows are
 * the evidence of who held what and why, so they only ever move forward and are never deleted.
 *
 *   requested ─▶ awaiting_approval ─▶ provisioning ─▶ active ─▶ revoking ─▶ revoked
 *        │               │                  │            │          │
 *        └───────────────┴──────────────────┴────────────┴──────────┴──▶ failed / held
 */
export const GRANT_STATES = ['requested', 'awaiting_approval', 'provisioning', 'active', 'revoking', 'revoked', 'failed', 'held'] as const;
export type GrantState = (typeof GRANT_STATES)[number];

const NEXT: Record<GrantState, readonly GrantState[]> = {
  requested: ['awaiting_approval', 'provisioning', 'revoked', 'failed', 'held'],
  // Denied or expired approvals end as revoked: nothing was ever provisioned, and the reason says so.
  awaiting_approval: ['provisioning', 'revoked', 'failed', 'held'],
  provisioning: ['active', 'revoking', 'failed', 'held'],
  active: ['revoking', 'failed', 'held'],
  revoking: ['revoked', 'failed', 'held'],
  revoked: [],
  // An operator's replay or release moves these on again.
  failed: ['provisioning', 'revoking', 'revoked'],
  // A held deprovision is released (revoking) or rejected, or the IdP takes it back (active again).
  held: ['active', 'provisioning', 'revoking', 'revoked'],
};

export function canTransition(from: GrantState, to: GrantState): boolean {
  return NEXT[from].includes(to);
}

/** States in which the user holds, or is on the way to holding, the entitlement. */
export const LIVE_STATES: readonly GrantState[] = ['requested', 'awaiting_approval', 'provisioning', 'active', 'failed', 'held'];

export function isLive(state: GrantState): boolean {
  return LIVE_STATES.includes(state);
}

/** Why access ended; recorded on the grant and in the audit trail. */
export const REVOKE_REASONS = ['policy', 'deactivated', 'deleted', 'quarantined', 'expired', 'sponsor_removed', 'inactive', 'denied', 'operator', 'offboarded'] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

/**
 * Grants that may have reached the downstream, or are on their way there: the user holds (or is about to
 * hold) the entitlement, and only a revocation job ends it. SQL texts that ask "does the user hold this
 * downstream" use the same list.
 */
export const DOWNSTREAM_LIVE: readonly GrantState[] = ['provisioning', 'active', 'failed', 'held'];
