import { describe, expect, it } from 'vitest';
import { decideSponsorship } from './sponsorship.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;
const base = { userName: 'pat@partner.example', sponsor: 'Ada@Globex.example', sponsorActive: true as boolean | null, previous: null, graceMs: 7 * DAY, now: NOW };

describe('decideSponsorship', () => {
  it('is sponsored by another active user of the tenant', () => {
    expect(decideSponsorship(base)).toEqual({ status: 'sponsored', next: { sponsor: 'ada@globex.example', lapsedSince: null, revokeAt: null, ended: false }, change: null });
  });

  it('lapses when the sponsor is deactivated, deleted, cleared, or the user themself; removal comes after the grace', () => {
    for (const lapse of [{ sponsorActive: false }, { sponsorActive: null }, { sponsor: '' }, { sponsor: 'PAT@partner.example' }]) {
      const decision = decideSponsorship({ ...base, ...lapse });
      expect(decision).toMatchObject({ status: 'grace', change: 'lapsed', next: { lapsedSince: NOW, revokeAt: new Date(NOW.getTime() + 7 * DAY), ended: false } });
    }
    const previous = { sponsor: 'ada@globex.example', lapsedSince: new Date(NOW.getTime() - 8 * DAY), revokeAt: new Date(NOW.getTime() - DAY), ended: false };
    expect(decideSponsorship({ ...base, sponsorActive: false, previous })).toMatchObject({ status: 'removed', change: null, next: { ended: true, lapsedSince: previous.lapsedSince } });
  });

  it('removes at once without a grace period', () => {
    expect(decideSponsorship({ ...base, sponsorActive: false, graceMs: 0 }).status).toBe('removed');
  });

  it('is restored by a sponsor who comes back, or a new one', () => {
    const previous = { sponsor: 'ada@globex.example', lapsedSince: new Date(NOW.getTime() - DAY), revokeAt: new Date(NOW.getTime() + 6 * DAY), ended: false };
    expect(decideSponsorship({ ...base, previous })).toMatchObject({ status: 'sponsored', change: 'restored', next: { lapsedSince: null } });
  });
});
