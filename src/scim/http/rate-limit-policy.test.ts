import { describe, expect, it } from 'vitest';
import { gcraParams, rateLimitDetail, rateLimitKey, ratePolicy, retryAfterSeconds } from './rate-limit-policy.js';

describe('ratePolicy', () => {
  it('is undefined for 0, which means unlimited', () => {
    expect(ratePolicy(0, 100)).toBeUndefined();
  });

  it('keeps the rate and burst, and never lets the bucket hold less than one request', () => {
    expect(ratePolicy(50, 200)).toEqual({ perSecond: 50, burst: 200 });
    expect(ratePolicy(50, 0)).toEqual({ perSecond: 50, burst: 1 });
  });
});

describe('gcraParams', () => {
  it('spaces requests 1/rate apart and lets the arrival time run a full bucket ahead', () => {
    expect(gcraParams({ perSecond: 4, burst: 10 })).toEqual({ intervalMs: 250, toleranceMs: 2500 });
    const odd = gcraParams({ perSecond: 3, burst: 3 });
    expect(odd.intervalMs).toBeCloseTo(333.333, 3);
    expect(odd.toleranceMs).toBeCloseTo(1000, 6);
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds and is at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(2_500)).toBe(3);
  });
});

describe('rateLimitDetail', () => {
  it('names the limit, the burst and the wait', () => {
    expect(rateLimitDetail({ perSecond: 20, burst: 40 }, 3)).toBe(
      'too many requests: this tenant may make 20 SCIM requests per second (bursts of 40); retry after 3 s',
    );
  });
});

describe('rateLimitKey', () => {
  it('lives under the deployment prefix, by tenant id', () => {
    expect(rateLimitKey('lanyard', '7b0c')).toBe('lanyard:scim-rate:7b0c');
  });
});
