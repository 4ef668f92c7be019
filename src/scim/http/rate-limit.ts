import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { ScimError } from '../../errors/scim-error.js';
import type { Logger } from '../../log/logger.js';
import { tenantContext } from './authenticate.js';
import { gcraParams, rateLimitDetail, rateLimitKey, type RatePolicy, retryAfterSeconds } from './rate-limit-policy.js';

/**
 * One tenant's bucket, checked and spent atomically in one round trip (EVALSHA). The clock is Redis's own
 * (TIME), so service processes whose clocks disagree still share one bucket. Answers 0 when the request may
 * go ahead, otherwise how many milliseconds until it could; a refused request spends nothing, so an IdP that
 * retries too early is not pushed further back. The key expires when the bucket would be full again, which
 * is when it stops mattering. TIME before a write needs Redis 5 or later (effects replication).
 */
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > tolerance then
  return math.ceil(next_tat - tolerance - now)
end
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', string.format('%d', math.ceil(next_tat - now)))
return 0
`;

const COMMAND = 'lanyardScimRateLimit';

type WithScript = Redis & { [COMMAND]?: (key: string, intervalMs: string, toleranceMs: string) => Promise<number> };

/**
 * A Redis that answers in under a millisecond but not within this is as good as gone: the request goes
 * ahead without the check. Generous, because a busy event loop delays the answer's handling too, and
 * letting a noisy tenant through on our own lag would defeat the limit.
 */
const REDIS_TIMEOUT_MS = 500;

/** While Redis is unreachable, the warning is logged at most this often per process, not once per request. */
const WARN_INTERVAL_MS = 60_000;

export interface RateLimitOptions {
  redis: Redis;
  /** The deployment's Redis key prefix (QUEUE_PREFIX), so deployments sharing a Redis share no buckets. */
  prefix: string;
  policy: RatePolicy;
  log: Logger;
}

/**
 * Limits each tenant's SCIM requests (SCIM_RATE_LIMIT, SCIM_RATE_BURST) across every service process
 * sharing the Redis, answering 429 with Retry-After through the SCIM error handler. Mounted after
 * authentication, so the tenant is known and a caller without a valid token cannot spend a tenant's budget.
 * When Redis cannot answer, the request goes through: an IdP's changes matter more than the limit.
 */
export function rateLimit(opts: RateLimitOptions) {
  const redis = opts.redis as WithScript;
  if (!redis[COMMAND]) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_SCRIPT });
  const spend = redis[COMMAND]!.bind(redis);
  const { intervalMs, toleranceMs } = gcraParams(opts.policy);
  const interval = String(intervalMs);
  const tolerance = String(toleranceMs);
  let warnedAt = Number.NEGATIVE_INFINITY;
  let failing = false;

  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = rateLimitKey(opts.prefix, tenantContext(res).tenantId);
    let waitMs: number;
    try {
      waitMs = Number(await withTimeout(spend(key, interval, tolerance), REDIS_TIMEOUT_MS));
    } catch (err) {
      failing = true;
      const now = Date.now();
      if (now - warnedAt >= WARN_INTERVAL_MS) {
        warnedAt = now;
        opts.log.warn({ err: { message: (err as Error).message } }, 'SCIM rate limit not enforced: Redis is unreachable, requests go through unlimited');
      }
      next();
      return;
    }
    if (failing) {
      failing = false;
      opts.log.info('SCIM rate limit enforced again: Redis answers');
    }
    if (waitMs > 0) {
      const retryAfter = retryAfterSeconds(waitMs);
      throw new ScimError(429, undefined, rateLimitDetail(opts.policy, retryAfter), { 'Retry-After': String(retryAfter) });
    }
    next();
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
