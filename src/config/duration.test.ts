import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['90d', 90 * 86_400_000],
    [' 5m ', 300_000],
    ['250ms', 250],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5x', '0d', '', 'd', '1.5h', '-1d', '5 d', '12H', '1000000d', '0ms', '5MS'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('formatDuration', () => {
  it('uses the largest unit that divides evenly', () => {
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(36 * 3_600_000)).toBe('36h');
    expect(formatDuration(90 * 60_000)).toBe('90m');
    expect(formatDuration(45_000)).toBe('45s');
  });

  it('round-trips through parseDuration', () => {
    for (const text of ['1d', '25h', '61m', '59s']) expect(formatDuration(parseDuration(text)!)).toBe(text);
  });
});
