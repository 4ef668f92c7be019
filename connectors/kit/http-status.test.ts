import { describe, expect, it } from 'vitest';
import { ConnectorError, isConnectorError, isRetryable } from './connector-error.js';
import { errorFromNetwork, errorFromStatus, parseRetryAfter } from './http-status.js';

describe('errorFromStatus', () => {
  it('maps each status to one closed code', () => {
    const cases: [number, string][] = [
      [400, 'invalid_config'],
      [401, 'auth_failed'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [408, 'unavailable'],
      [409, 'conflict'],
      [422, 'invalid_config'],
      [429, 'rate_limited'],
      [500, 'unavailable'],
      [501, 'unsupported'],
      [502, 'unavailable'],
      [503, 'unavailable'],
      [302, 'invalid_response'],
      [418, 'invalid_response'],
    ];
    for (const [status, code] of cases) expect(errorFromStatus(status, 'PATCH /Groups/1').code, String(status)).toBe(code);
  });

  it('carries Retry-After on 429 and 503, and says which call failed without the body', () => {
    const limited = errorFromStatus(429, 'GET /Users', '7');
    expect(limited).toMatchObject({ code: 'rate_limited', retryAfterMs: 7000, message: 'GET /Users: HTTP 429' });
    expect(errorFromStatus(503, 'GET /Users', '2').retryAfterMs).toBe(2000);
    expect(errorFromStatus(429, 'GET /Users').retryAfterMs).toBeUndefined();
  });

  it('retries only rate limits and outages', () => {
    expect(isRetryable(errorFromStatus(429, 'x'))).toBe(true);
    expect(isRetryable(errorFromStatus(503, 'x'))).toBe(true);
    expect(isRetryable(errorFromStatus(401, 'x'))).toBe(false);
    expect(isRetryable(errorFromStatus(409, 'x'))).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('reads seconds and HTTP dates, capped at an hour, never negative', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
  });
  it('ignores what it cannot read', () => {
    for (const header of [undefined, null, '', 'soon', '-5']) expect(parseRetryAfter(header, now)).toBeNull();
  });
});

describe('errorFromNetwork', () => {
  it('turns refused, reset and timed-out transports into unavailable', () => {
    for (const err of [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), Object.assign(new Error('t'), { name: 'TimeoutError' })]) {
      expect(errorFromNetwork(err, 'GET /')).toMatchObject({ code: 'unavailable' });
    }
  });
  it('passes other errors and ConnectorErrors through', () => {
    const bug = new RangeError('bug');
    expect(errorFromNetwork(bug, 'x')).toBe(bug);
    const known = new ConnectorError('forbidden', 'no');
    expect(errorFromNetwork(known, 'x')).toBe(known);
  });
});

describe('isConnectorError', () => {
  it('recognises one by name and code, also as plain data from another process', () => {
    expect(isConnectorError(new ConnectorError('conflict', 'x'))).toBe(true);
    expect(isConnectorError({ name: 'ConnectorError', code: 'unavailable', message: 'x' })).toBe(true);
    expect(isConnectorError({ name: 'ConnectorError', code: 'made_up', message: 'x' })).toBe(false);
    expect(isConnectorError(new Error('x'))).toBe(false);
  });
});
