import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One job at a time per user and connector, across lanes and processes. The grant lane and the revocation
 * lane both act on the same downstream account (enable, disable, entitlements); interleaved, a disable
 * could land between an enable and its record, leaving PostgreSQL and the downstream disagreeing.
 *
 * A lock lives in Redis with an expiry, renewed while its job runs, so a worker that dies frees it within
 * `ttlMs`; a job that finds it taken waits and tries again.
 */
export class AccountLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** Runs `work` holding the lock, or answers `busy` at once when another job holds it. */
  async withLock<T>(key: { tenantId: string; userId: string; connector: string }, work: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
    const name = `${this.prefix}:account-lock:${key.tenantId}:${key.userId}:${key.connector}`;
    const token = randomUUID();
    if ((await this.redis.set(name, token, 'PX', this.ttlMs, 'NX')) !== 'OK') return { busy: true };
    const renew = setInterval(() => {
      void this.redis.eval(RENEW, 1, name, token, String(this.ttlMs)).catch(() => {});
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    try {
      return { busy: false, value: await work() };
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, name, token).catch(() => {});
    }
  }
}

/** Only the holder renews or releases: an expired lock taken over by another job stays theirs. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
