/**
 * The per-tenant SCIM rate limit as numbers, apart from Redis: a token bucket that refills `perSecond`
 * tokens a second up to `burst`, and costs one token per request.
 *
 * It is kept in the GCRA form (generic cell rate algorithm): instead of a token count and a refill time,
 * one timestamp per tenant, the "theoretical arrival time" (TAT) at which the bucket would be full again.
 * A request at `now` moves it to `max(TAT, now) + interval` and is allowed while that stays within
 * `tolerance` of `now`. That is the same bucket, but one number read and written per request, so the Redis
 * script is a GET and a SET whose expiry is exactly when the key stops mattering.
 */
export interface RatePolicy {
  /** Sustained requests per second one tenant may make. */
  perSecond: number;
  /** Requests one tenant may make at once after being quiet: the bucket's size. */
  burst: number;
}

export interface GcraParams {
  /** Milliseconds one request costs: the time the bucket takes to regain one token. */
  intervalMs: number;
  /** How far ahead of now the TAT may run: a full bucket's worth of intervals. */
  toleranceMs: number;
}

/** The policy for the configured limit, or undefined when 0 says "unlimited". */
export function ratePolicy(perSecond: number, burst: number): RatePolicy | undefined {
  if (perSecond <= 0) return undefined;
  return { perSecond, burst: Math.max(1, burst) };
}

export function gcraParams(policy: RatePolicy): GcraParams {
  const intervalMs = 1000 / policy.perSecond;
  return { intervalMs, toleranceMs: intervalMs * policy.burst };
}

/**
 * `Retry-After` is whole seconds (RFC 9110 §10.2.3); rounding down would send the IdP back before a token
 * is there, and 0 would invite an immediate retry, so it is rounded up and never below 1.
 */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** The error detail an IdP's administrator reads in their provisioning log: the limit, and when to come back. */
export function rateLimitDetail(policy: RatePolicy, retryAfter: number): string {
  return `too many requests: this tenant may make ${policy.perSecond} SCIM requests per second (bursts of ${policy.burst}); retry after ${retryAfter} s`;
}

/** One key per tenant under the deployment's prefix; the tenant id, not the slug, so a rename keeps its bucket. */
export function rateLimitKey(prefix: string, tenantId: string): string {
  return `${prefix}:scim-rate:${tenantId}`;
}
