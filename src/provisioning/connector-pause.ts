import type { Redis } from 'ioredis';

/**
 * How stale this process's "not paused" may be: a pause set by another process is seen within this, at
 * the cost of a few calls that then get their own 429.
 */
const CHECK_MS = 250;

/**
 * Per-connector pauses after a 429, shared by every worker process through Redis, so one downstream's rate
 * limit slows that downstream only. A local copy saves a Redis read per job while a pause is known.
 */
export class ConnectorPauses {
  private readonly local = new Map<string, number>();
  /** When each connector was last seen unpaused in Redis: rechecked at most every CHECK_MS. */
  private readonly clear = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async pause(tenantId: string, connector: string, ms: number): Promise<number> {
    const until = Date.now() + ms;
    const key = this.key(tenantId, connector);
    this.local.set(key, Math.max(until, this.local.get(key) ?? 0));
    // Keeps the later of two pauses: GT on the expiry needs Redis 7, so compare the stored value instead.
    await this.redis.eval(
      `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
       if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
       return 1`,
      1,
      key,
      String(until),
      String(ms),
    );
    return until;
  }

  /** When the connector may be called again, or 0 when it is not paused. */
  async pausedUntil(tenantId: string, connector: string): Promise<number> {
    const key = this.key(tenantId, connector);
    const now = Date.now();
    const known = this.local.get(key) ?? 0;
    if (known > now) return known;
    this.local.delete(key);
    if (now - (this.clear.get(key) ?? 0) < CHECK_MS) return 0;
    const stored = Number((await this.redis.get(key)) ?? 0);
    if (stored > Date.now()) {
      this.local.set(key, stored);
      return stored;
    }
    this.clear.set(key, now);
    return 0;
  }

  private key(tenantId: string, connector: string): string {
    return `${this.prefix}:pause:${tenantId}:${connector}`;
  }
}
