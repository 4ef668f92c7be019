import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { configureScimmy } from './scim/schemas.js';
import type { MarkedChange } from './store/reconcile-outbox.js';
import { ensureDatabase, migrate } from './store/migrate.js';
import { createPool } from './store/pool.js';
import { ConnectorService } from './provisioning/connector-service.js';
import { JobQueues } from './provisioning/job-queues.js';
import { JobsService } from './provisioning/jobs-service.js';
import { PolicyService } from './provisioning/policy-service.js';
import { TenantService } from './tenants/tenant-service.js';
import { ApprovalService } from './approvals/approval-service.js';
import { ExceptionService } from './approvals/exception-service.js';
import { HoldService } from './lifecycle/hold-service.js';
import { TokenService } from './tenants/token-service.js';
import { OperatorKeyService } from './operators/operator-key-service.js';

/** The role requests run as; created by the first migration. */
export const APP_ROLE = 'lanyard_app';

export interface Runtime {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  tenants: TenantService;
  tokens: TokenService;
  policies: PolicyService;
  approvals: ApprovalService;
  exceptions: ExceptionService;
  holds: HoldService;
  connectors: ConnectorService;
  jobs: JobsService;
  operatorKeys: OperatorKeyService;
  /** The job queues, connected on first use: commands that queue nothing never touch Redis. */
  queues(): JobQueues;
  /** Queues the reconcile of users a committed change marked; failures are logged, the sweep has them. */
  onMarked(tenantId: string, userIds: readonly string[], change?: MarkedChange): Promise<void>;
  close(): Promise<void>;
}

/**
 * Brings up what every command needs: the database (created and migrated if needed), the pool every query
 * runs through as the row-level-security-bound role, and the operator services.
 */
export async function openRuntime(config: Config, log: Logger): Promise<Runtime> {
  configureScimmy();
  await ensureDatabase(config.databaseUrl, log);
  await migrate(config.databaseUrl, log);
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    appRole: APP_ROLE,
    max: config.databasePoolMax,
    statementTimeoutMs: config.statementTimeoutMs,
  });
  let queues: JobQueues | undefined;
  const getQueues = () => (queues ??= new JobQueues(config.redisUrl, config.jobs));
  const onMarked = async (tenantId: string, userIds: readonly string[], change: MarkedChange = { mayRevoke: false }) => {
    try {
      await getQueues().enqueueReconciles(userIds.map((userId) => ({ tenantId, userId })), change.mayRevoke ? 'priority' : 'normal');
    } catch (err) {
      log.warn({ err: { message: (err as Error).message }, tenantId, users: userIds.length }, 'could not queue reconciles; the sweep will');
    }
  };
  return {
    config,
    log,
    pool,
    tenants: new TenantService(pool, onMarked),
    tokens: new TokenService(pool, { defaultTtlMs: config.scim.tokenDefaultTtlMs, maxTtlMs: config.scim.tokenMaxTtlMs }),
    policies: new PolicyService(pool, onMarked),
    approvals: new ApprovalService(pool, onMarked),
    exceptions: new ExceptionService(pool, onMarked),
    holds: new HoldService(pool, onMarked),
    connectors: new ConnectorService(pool, config.masterKey, log),
    jobs: new JobsService(pool, (work) => getQueues().enqueueConnectorWork(work)),
    operatorKeys: new OperatorKeyService(pool, { defaultTtlMs: config.admin.keyDefaultTtlMs, maxTtlMs: config.admin.keyMaxTtlMs }, log),
    queues: getQueues,
    onMarked,
    async close() {
      await queues?.close().catch(() => {});
      await pool.end();
    },
  };
}

/** Readiness reports Redis because the job pipeline depends on it. */
export function connectRedis(url: string): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 });
}
