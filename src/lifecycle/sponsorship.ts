/** A user's sponsorship as last recorded. */
export interface SponsorshipRecord {
  sponsor: string | null;
  lapsedSince: Date | null;
  revokeAt: Date | null;
  ended: boolean;
}

export type SponsorshipStatus = 'sponsored' | 'grace' | 'removed';

export interface SponsorshipDecision {
  status: SponsorshipStatus;
  /** What to record now. */
  next: SponsorshipRecord;
  /** An event worth an audit entry: the sponsor just lapsed, or came back. */
  change: 'lapsed' | 'restored' | null;
}

/**
 * Where a partner user stands with their sponsor. Pure. The sponsor must be another, active user of the
 * same tenant; otherwise the sponsorship has lapsed, and after `graceMs` from the moment it lapsed the
 * user's access is removed. A sponsor who comes back (or a new one) within the grace keeps the access;
 * after it, access comes back by policy as new grants.
 */
export function decideSponsorship(input: {
  userName: string;
  sponsor: string | undefined;
  /** null: no user of that name in the tenant. */
  sponsorActive: boolean | null;
  previous: SponsorshipRecord | null;
  graceMs: number;
  now: Date;
}): SponsorshipDecision {
  const sponsor = input.sponsor?.trim().toLowerCase() || null;
  const valid = sponsor !== null && sponsor !== input.userName.trim().toLowerCase() && input.sponsorActive === true;
  const previous = input.previous;
  if (valid) {
    return { status: 'sponsored', next: { sponsor, lapsedSince: null, revokeAt: null, ended: false }, change: previous?.lapsedSince ? 'restored' : null };
  }
  const lapsedSince = previous?.lapsedSince ?? input.now;
  const revokeAt = new Date(lapsedSince.getTime() + input.graceMs);
  const removed = input.now >= revokeAt;
  return {
    status: removed ? 'removed' : 'grace',
    next: { sponsor, lapsedSince, revokeAt, ended: removed },
    change: previous?.lapsedSince ? null : 'lapsed',
  };
}
