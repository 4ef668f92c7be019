import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { JobsConfig } from '../config/schema.js';
import { TOKEN_EXPIRY_WARNING_MS } from '../lifecycle/token-expiry-schedule.js';
import type { Logger } from '../log/logger.js';
import { JobQueues } from '../provisioning/job-queues.js';
import { QUEUE_NAMES } from '../provisioning/jobs.js';
import { type TenantStatusRow, tenantStatuses } from '../store/status-store.js';

/**
 * How long one reading of PostgreSQL and Redis serves scrapes. Several Prometheus servers, or a scrape
 * hammered by hand, then cost one set-based query per interval, whatever their rate.
 */
const STATUS_CACHE_MS = 5_000;

export type QueueDepth = () => Promise<Record<string, number>>;

interface Snapshot {
  at: number;
  tenants: TenantStatusRow[] | null;
  depth: Record<string, number> | null;
}

export interface StatusSources {
  pool: pg.Pool;
  queueDepth: QueueDepth;
  log: Logger;
  cacheMs?: number;
}

/**
 * The gauges read at scrape time, in a registry of their own (they belong to one pool and one Redis, so
 * to one app): queue depths, and per tenant (offboarded ones left out) users, grants by state, pending
 * approvals and holds, parked work, the age of the last SCIM request and the tokens about to expire. One
 * reading feeds every gauge of a scrape. When PostgreSQL or Redis cannot answer, the gauges it feeds are
 * absent from that scrape and `lanyard_status_read_failures_total` says which source failed.
 */
export function createStatusRegistry({ pool, queueDepth, log, cacheMs = STATUS_CACHE_MS }: StatusSources): Registry {
  const registry = new Registry();
  const failures = new Counter({
    name: 'lanyard_status_read_failures_total',
    help: 'Scrape-time readings that failed, by source (postgres, redis)',
    labelNames: ['source'] as const,
    registers: [registry],
    // Serialised first: the reading this scrape makes must be counted in it.
    async collect() {
      await snapshot();
    },
  });
  failures.labels('postgres').inc(0);
  failures.labels('redis').inc(0);

  let latest: Promise<Snapshot> | undefined;
  let latestAt = 0;
  const read = async (): Promise<Snapshot> => {
    const [tenants, depth] = await Promise.all([
      tenantStatuses(pool, { expiringWithinMs: TOKEN_EXPIRY_WARNING_MS }).catch((err: Error) => {
        failures.labels('postgres').inc();
        log.warn({ err: { message: err.message } }, 'metrics: could not read tenant status');
        return null;
      }),
      queueDepth().catch((err: Error) => {
        failures.labels('redis').inc();
        log.warn({ err: { message: err.message } }, 'metrics: could not read queue depths');
        return null;
      }),
    ]);
    return { at: Date.now(), tenants: tenants?.filter((t) => t.status !== 'offboarded') ?? null, depth };
  };
  // Concurrent scrapes share the reading in flight.
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (!latest || now - latestAt >= cacheMs) {
      latestAt = now;
      latest = read();
    }
    return latest;
  };

  const perTenant = (name: string, help: string, value: (t: TenantStatusRow, at: number) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['tenant'] as const,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        for (const t of s.tenants ?? []) {
          const v = value(t, s.at);
          if (v !== null) this.labels(t.slug).set(v);
        }
      },
    });

  new Gauge({
    name: 'lanyard_queue_depth',
    help: 'Jobs waiting, delayed or running, per queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [queue, n] of Object.entries(s.depth ?? {})) this.labels(queue).set(n);
    },
  });
  new Gauge({
    name: 'lanyard_tenant_info',
    help: 'One series per tenant (offboarded ones left out), carrying its status (active, suspended)',
    labelNames: ['tenant', 'status'] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const t of s.tenants ?? []) this.labels(t.slug, t.status).set(1);
    },
  });
  new Gauge({
    name: 'lanyard_tenant_grants',
    help: 'Grants per tenant and state, every state present',
    labelNames: ['tenant', 'state'] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const t of s.tenants ?? []) for (const [state, n] of Object.entries(t.grants)) this.labels(t.slug, state).set(n);
    },
  });
  perTenant('lanyard_tenant_users', 'Users per tenant, active or not', (t) => t.users);
  perTenant('lanyard_tenant_pending_approvals', 'Approval requests waiting for a decision, per tenant', (t) => t.pendingApprovals);
  perTenant('lanyard_tenant_pending_holds', 'Deprovisions held by the mass-deprovision brake, waiting for an operator, per tenant', (t) => t.pendingHolds);
  perTenant('lanyard_tenant_parked_jobs', 'Downstream work parked as failed (lanyard jobs failed), per user and connector, per tenant', (t) => t.parkedWork);
  perTenant(
    'lanyard_tenant_last_scim_request_age_seconds',
    "Seconds since the tenant's last authenticated SCIM request (reads included, one-minute resolution); absent if never",
    (t, at) => (t.lastScimRequestAt ? Math.max(0, (at - t.lastScimRequestAt.getTime()) / 1000) : null),
  );
  perTenant('lanyard_tenant_scim_tokens_active', 'SCIM tokens in force (neither revoked nor expired), per tenant', (t) => t.activeTokens);
  perTenant('lanyard_tenant_scim_tokens_expiring', 'SCIM tokens in force that expire within 14 days, per tenant', (t) => t.expiringTokens);
  return registry;
}

/**
 * Queue depths read through producers of their own, opened at the first scrape (an app never scraped
 * opens no connection) and closed when `lifetime`, the app's Redis connection, is disconnected.
 */
export function queueDepthReader(redisUrl: string, jobs: JobsConfig, lifetime: Redis): QueueDepth {
  let queues: JobQueues | undefined;
  let ended = false;
  lifetime.once('end', () => {
    ended = true;
    void queues?.close().catch(() => {});
  });
  return async () => {
    if (ended) throw new Error('the service is stopping');
    queues ??= new JobQueues(redisUrl, jobs);
    // Labelled by queue name, as the job counters are.
    const depth = await queues.depth();
    return Object.fromEntries(Object.entries(depth).map(([key, n]) => [QUEUE_NAMES[key as keyof typeof QUEUE_NAMES], n]));
  };
}
