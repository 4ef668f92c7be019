import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const opts = { baseMs: 1000, maxMs: 60_000 };

describe('backoffDelay', () => {
  it('doubles with each attempt around its midpoint', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, opts, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('spreads each delay between half and one and a half times', () => {
    expect(backoffDelay(3, opts, () => 0)).toBe(2000);
    expect(backoffDelay(3, opts, () => 0.999999)).toBe(6000);
  });

  it('stops growing at the cap', () => {
    expect(backoffDelay(30, opts, () => 0.5)).toBe(60_000);
  });
});
