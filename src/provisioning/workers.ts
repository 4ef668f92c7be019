import { DelayedError, type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { ConnectorError, isConnectorError } from '../../connectors/kit/connector-error.js';
import type { AuditConfig, JobsConfig } from '../config/schema.js';
import { inactivitySchedule } from '../lifecycle/inactivity-schedule.js';
import { tokenExpirySchedule } from '../lifecycle/token-expiry-schedule.js';
import { checkpointSchedule, dueSchedule, type RunningSchedules, startSchedules } from '../lifecycle/schedules.js';
import { auditCheckpointTask } from '../audit/checkpoint-files.js';
import type { Logger } from '../log/logger.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import { dueWork, lanesAmong, markedAmong } from '../store/pending-work.js';
import { backoffDelay } from './backoff.js';
import { Batcher } from './batcher.js';
import { AccountLocks } from './account-locks.js';
import { ConnectorInstances } from './connector-instances.js';
import { ConnectorPauses } from './connector-pause.js';
import { parkConnectorWork, runConnectorWork } from './connector-work.js';
import type { JobQueues } from './job-queues.js';
import { type ConnectorWork, connectorWorkSchema, laneOfCause, QUEUE_NAMES, reconcileJobSchema } from './jobs.js';
import { reconcileUser } from './reconcile.js';

const PAUSED = 'connector paused after a 429';
/** What a connector job answers when it parked its work: the job completes, the work waits for an operator. */
const PARKED = 'parked';
/** How long a job waits before trying again when the other lane holds its account. */
const LOCK_RETRY_MS = 200;
/** How many intents one sweep re-creates at most; the next sweep takes the rest. */
const SWEEP_MAX = 20_000;

export interface WorkerDeps {
  pool: pg.Pool;
  queues: JobQueues;
  redisUrl: string;
  masterKey: Buffer;
  config: JobsConfig;
  log: Logger;
  /** Signed audit checkpoints are written on a schedule when the key and directory are configured. */
  audit?: AuditConfig;
  /** Records job outcomes (completed, failed, parked, delayed); none are recorded without it. */
  metrics?: JobMetrics;
}

export interface RunningWorkers {
  /** Re-creates from PostgreSQL every intent Redis lost (also runs on a timer). */
  sweep(): Promise<{ reconciles: number; connectorWork: number }>;
  /** The schedules (lifecycle, audit checkpoints), which can also be run at once. */
  schedules: RunningSchedules;
  close(): Promise<void>;
}

/**
 * The provisioning workers of one process: reconcile, the grant lane and the revocation lane, plus the
 * sweep. Any number of processes may run them against one Redis and one PostgreSQL.
 */
export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const { pool, queues, config, log } = deps;
  const shutdown = new AbortController();
  // BullMQ workers block on Redis, so they need a connection that retries forever instead of failing a call.
  const connection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => log.warn({ err: { message: err.message } }, 'worker redis connection error'));
  const connectors = new ConnectorInstances(pool, deps.masterKey, log, shutdown.signal);
  const pauses = new ConnectorPauses(connection, config.queuePrefix);
  const locks = new AccountLocks(connection, config.queuePrefix, config.lockMs);

  const common = {
    connection,
    prefix: config.queuePrefix,
    lockDuration: config.lockMs,
    stalledInterval: config.lockMs,
    // A job whose worker died is handed on a few times before BullMQ gives up on it; the sweep still has it.
    maxStalledCount: 5,
    settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, { baseMs: config.backoffBaseMs, maxMs: config.backoffMaxMs }) },
  };

  const processReconcile = async (job: Job) => {
    const { tenantId, userId } = reconcileJobSchema.parse(job.data);
    const { work, heldBy } = await reconcileUser(pool, tenantId, userId);
    if (heldBy) log.warn({ tenantId, userId, hold: heldBy }, 'mass-deprovision brake engaged: deprovision held for an operator (lanyard holds list)');
    // After the commit: work that cannot be queued now is found again by the sweep.
    if (work.length) await queues.enqueueConnectorWork(work).catch((err: Error) => log.warn({ err: { message: err.message }, tenantId }, 'could not queue connector work; the sweep will'));
  };
  const reconcile = new Worker(QUEUE_NAMES.reconcile, processReconcile, { ...common, concurrency: config.reconcileConcurrency });
  const reconcilePriority = new Worker(QUEUE_NAMES.reconcilePriority, processReconcile, { ...common, concurrency: Math.max(1, Math.floor(config.reconcileConcurrency / 2)) });

  const processConnectorWork = async (job: Job, token?: string): Promise<typeof PARKED | undefined> => {
    const work = connectorWorkSchema.parse(job.data);
    const delayUntil = async (until: number) => {
      // Spread the paused jobs so they do not all return in the same millisecond.
      await job.moveToDelayed(until + Math.floor(Math.random() * 250), token);
      // A delayed job leaves the worker without an event of its own: counted here.
      deps.metrics?.job(job.queueName, 'delayed');
      throw new DelayedError();
    };
    const paused = await pauses.pausedUntil(work.tenantId, work.connector);
    if (paused) await delayUntil(paused);
    try {
      const beforeCall = async () => {
        const until = await pauses.pausedUntil(work.tenantId, work.connector);
        if (until) throw new ConnectorError('rate_limited', PAUSED, until - Date.now());
      };
      const locked = await locks.withLock(work, () => runConnectorWork({ pool, connectors, beforeCall }, work));
      // The other lane is working on this account: come back shortly rather than act beside it.
      if (locked.busy) await delayUntil(Date.now() + LOCK_RETRY_MS);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      if (isConnectorError(err) && err.code === 'rate_limited') {
        const until = await pauses.pause(work.tenantId, work.connector, err.retryAfterMs ?? config.rateLimitPauseMs);
        if (err.message !== PAUSED) log.warn({ tenantId: work.tenantId, connector: work.connector, until: new Date(until).toISOString() }, 'connector rate-limited; pausing it');
        await delayUntil(until);
      }
      const retryable = !isConnectorError(err) || err.code === 'unavailable';
      const attemptsLeft = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      if (retryable && attemptsLeft) throw err;
      await park(work, err, job.attemptsMade + 1);
      return PARKED;
    }
    return undefined;
  };

  const park = async (work: ConnectorWork, err: unknown, attempts: number) => {
    // Connector errors are written to be shown; anything else may carry internals and stays in the logs.
    const message = isConnectorError(err) ? `${err.code}: ${err.message}`.slice(0, 1000) : 'internal: unexpected error (see worker logs)';
    const parked = await parkConnectorWork(pool, work, message);
    log.warn({ tenantId: work.tenantId, userId: work.userId, connector: work.connector, lane: work.lane, attempts, err: isConnectorError(err) ? { code: err.code, message: err.message } : err, parked }, 'connector work parked as failed');
  };

  const grants = new Worker(QUEUE_NAMES.grants, processConnectorWork, { ...common, concurrency: config.grantConcurrency });
  const revocations = new Worker(QUEUE_NAMES.revocations, processConnectorWork, { ...common, concurrency: config.revokeConcurrency });
  const workers = [reconcile, reconcilePriority, grants, revocations];
  for (const worker of workers) {
    worker.on('error', (err) => log.warn({ err: { message: err.message }, queue: worker.name }, 'worker error'));
    worker.on('failed', (job, err) => log.warn({ queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, err: { message: err.message } }, 'job attempt failed'));
    const metrics = deps.metrics;
    if (metrics) {
      worker.on('completed', (_job, result) => metrics.job(worker.name, result === PARKED ? 'parked' : 'completed'));
      worker.on('failed', () => metrics.job(worker.name, 'failed'));
    }
  }

  // A change queued while its job was finishing was dropped as a duplicate of that job: look once more
  // after the job has left Redis, so nothing waits for the sweep.
  // Batched: one query re-checks the jobs finished within a few milliseconds of each other.
  const recheckBatch = { maxItems: 200, maxWaitMs: 20 };
  const reconcileRechecks = (['normal', 'priority'] as const).map(
    (lane) =>
      new Batcher<{ tenantId: string; userId: string }>(
        (users) =>
          markedAmong(pool, users)
            .then((marked) => queues.enqueueReconciles(marked, lane))
            .catch((err: Error) => log.warn({ err: { message: err.message } }, 'reconcile re-check failed; the sweep will')),
        recheckBatch,
      ),
  );
  const recheckReconcile = (batcher: Batcher<{ tenantId: string; userId: string }>) => (job: Job) => {
    const { tenantId, userId } = job.data as { tenantId: string; userId: string };
    batcher.add({ tenantId, userId });
  };
  reconcile.on('completed', recheckReconcile(reconcileRechecks[0]!));
  reconcilePriority.on('completed', recheckReconcile(reconcileRechecks[1]!));
  const connectorRechecks = new Batcher<{ tenantId: string; userId: string; connector: string }>(
    (work) =>
      lanesAmong(pool, work)
        .then((pending) => queues.enqueueConnectorWork(pending))
        .catch((err: Error) => log.warn({ err: { message: err.message } }, 'connector work re-check failed; the sweep will')),
    recheckBatch,
  );
  const recheckConnectorWork = (job: Job) => {
    const work = job.data as ConnectorWork;
    connectorRechecks.add({ tenantId: work.tenantId, userId: work.userId, connector: work.connector });
  };
  grants.on('completed', recheckConnectorWork);
  revocations.on('completed', recheckConnectorWork);

  const sweep = async () => {
    const due = await dueWork(pool, config.sweepGraceMs, SWEEP_MAX);
    for (const lane of ['priority', 'normal'] as const) {
      await queues.enqueueReconciles(due.reconciles.filter((r) => laneOfCause(r.cause) === lane).map(({ tenantId, userId }) => ({ tenantId, userId })), lane);
    }
    await queues.enqueueConnectorWork(due.connectorWork);
    if (due.reconciles.length || due.connectorWork.length) log.info({ reconciles: due.reconciles.length, connectorWork: due.connectorWork.length }, 'sweep re-queued pending work');
    return { reconciles: due.reconciles.length, connectorWork: due.connectorWork.length };
  };
  // The sweep runs on a local timer, not as a Redis-held schedule: it is what recovers from Redis losing
  // its data, so it must not depend on that data.
  const runSweep = () => void sweep().catch((err: Error) => log.warn({ err: { message: err.message } }, 'sweep failed'));
  const timer = setInterval(runSweep, config.sweepIntervalMs);
  timer.unref();
  runSweep();

  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Read first: a bad signing key stops the start rather than the first run.
  const checkpoints = deps.audit ? await auditCheckpointTask(pool, deps.audit) : null;
  const schedules = await startSchedules({
    connection,
    config,
    log,
    schedules: [
      dueSchedule(pool, queues, config.lifecycleIntervalMs),
      inactivitySchedule({ pool, connectors, queues, everyMs: config.inactivityCheckIntervalMs, log }),
      tokenExpirySchedule({ pool, log }),
      ...(checkpoints ? [checkpointSchedule(checkpoints, log)] : []),
    ],
  });
  log.info({ prefix: config.queuePrefix }, 'provisioning workers running');

  return {
    sweep,
    schedules,
    async close() {
      clearInterval(timer);
      await schedules.close();
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...reconcileRechecks, connectorRechecks].map((b) => b.flush()));
      shutdown.abort();
      await connectors.close();
      connection.disconnect();
    },
  };
}
