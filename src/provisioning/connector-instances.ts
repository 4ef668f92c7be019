import type pg from 'pg';
import type { Connector } from '../../connectors/kit/contract.js';
import type { Logger } from '../log/logger.js';
import { findConnector, type OnDelete } from '../store/connectors-store.js';
import { inTenantTx } from '../store/transaction.js';
import { openConnector } from './open-connector.js';

export interface LiveConnector {
  connector: Connector;
  onDelete: OnDelete;
}

/** How long a worker keeps a connector (and its connections) before reading its record again. */
const TTL_MS = 60_000;

/**
 * The connectors a worker process talks to, opened once and shared by its jobs: a postgres connector holds
 * a connection pool and a scim connector a token cache, which must not be rebuilt per job.
 */
export class ConnectorInstances {
  private readonly cache = new Map<string, { live: Promise<LiveConnector | null>; at: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly masterKey: Buffer,
    private readonly log: Logger,
    private readonly signal?: AbortSignal,
  ) {}

  /** The tenant's connector by name, or null when the tenant has none by that name. */
  get(tenantId: string, name: string): Promise<LiveConnector | null> {
    const key = `${tenantId}/${name}`;
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.live;
    const live = this.open(tenantId, name);
    this.cache.set(key, { live, at: Date.now() });
    // A failed open is not cached: the next job tries again.
    live.catch(() => this.cache.delete(key));
    if (cached) void this.retire(cached.live);
    return live;
  }

  async close(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map((c) => this.retire(c.live, 0)));
  }

  private async open(tenantId: string, name: string): Promise<LiveConnector | null> {
    const record = await inTenantTx(this.pool, tenantId, (db) => findConnector(db, tenantId, name), { readOnly: true });
    if (!record) return null;
    const connector = openConnector(record, tenantId, this.masterKey, {
      log: this.log.child({ tenantId, connector: name }),
      ...(this.signal ? { signal: this.signal } : {}),
    });
    return { connector, onDelete: record.onDelete };
  }

  /** Calls in flight keep their connector: closing it after a grace lets them finish. */
  private async retire(live: Promise<LiveConnector | null>, graceMs = 30_000): Promise<void> {
    const found = await live.catch(() => null);
    if (!found?.connector.close) return;
    if (graceMs === 0) await found.connector.close().catch(() => {});
    else setTimeout(() => void found.connector.close!().catch(() => {}), graceMs).unref();
  }
}
