import { describe, expect, it } from 'vitest';
import { isUnused, latestActivity } from './inactivity.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

describe('inactivity', () => {
  it('counts a grant as unused only once it has been in place for the whole period without activity', () => {
    expect(isUnused({ startedAt: ago(40), lastActivityAt: ago(31), afterMs: 30 * DAY, now: NOW })).toBe(true);
    expect(isUnused({ startedAt: ago(40), lastActivityAt: ago(29), afterMs: 30 * DAY, now: NOW })).toBe(false);
    expect(isUnused({ startedAt: ago(20), lastActivityAt: null, afterMs: 30 * DAY, now: NOW })).toBe(false);
    expect(isUnused({ startedAt: ago(31), lastActivityAt: null, afterMs: 30 * DAY, now: NOW })).toBe(true);
    expect(isUnused({ startedAt: null, lastActivityAt: null, afterMs: 30 * DAY, now: NOW })).toBe(false);
  });

  it('keeps the latest activity ever seen', () => {
    expect(latestActivity(ago(1), null)).toEqual(ago(1));
    expect(latestActivity(ago(5), ago(1))).toEqual(ago(1));
    expect(latestActivity(ago(1), ago(5))).toEqual(ago(1));
    expect(latestActivity(null, null)).toBeNull();
  });
});
