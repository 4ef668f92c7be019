import type { RevokeReason } from '../policy/grant-state.js';
import type { BrakeSettings } from '../policy/policy-schema.js';

/**
 * Revocations the brake counts and may hold: those the IdP or the policy asked for, which a misconfigured
 * IdP or a bad policy could ask for by the thousand. Ends that were planned (expiry, emergency access
 * running out) or decided by an operator (offboarding) are never held.
 */
export const BRAKED_REASONS: readonly RevokeReason[] = ['deactivated', 'deleted', 'policy', 'quarantined', 'sponsor_removed', 'inactive'];

export function isBraked(reason: RevokeReason): boolean {
  return BRAKED_REASONS.includes(reason);
}

/** How many users may lose access within the window before the brake holds the rest. */
export function brakeThreshold(settings: BrakeSettings, users: number): number {
  return Math.max(settings.minimum, Math.ceil((settings.percent / 100) * users));
}

/**
 * Whether the next deprovision is held. Pure. Held while the window already has its threshold of
 * deprovisions, and for as long as earlier holds wait for an operator: a brake that engaged stays engaged
 * until someone looks.
 */
export function brakeEngaged(settings: BrakeSettings, state: { recent: number; pendingHolds: number; users: number }): boolean {
  if (!settings.enabled) return false;
  return state.pendingHolds > 0 || state.recent >= brakeThreshold(settings, state.users);
}
