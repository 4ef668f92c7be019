import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobsConfig } from '../config/schema.js';
import { type ConnectorWork, connectorWorkId, QUEUE_NAMES, type ReconcileJob, reconcileJobId } from './jobs.js';

/** Finished and failed jobs leave Redis at once: PostgreSQL keeps the record, and a kept job id would block re-queuing. */
const RETENTION: JobsOptions = { removeOnComplete: true, removeOnFail: true };
const BULK = 1000;

/** Producers of every queue, on one Redis connection. */
export class JobQueues {
  readonly connection: Redis;
  readonly reconcile: Queue;
  readonly reconcilePriority: Queue;
  readonly grants: Queue;
  readonly revocations: Queue;

  constructor(
    redisUrl: string,
    private readonly config: JobsConfig,
  ) {
    // Bounded waits rather than an open-ended buffer: a job that cannot be queued soon is re-created by the sweep.
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 5_000 });
    const opts = { connection: this.connection, prefix: config.queuePrefix };
    this.reconcile = new Queue(QUEUE_NAMES.reconcile, opts);
    this.reconcilePriority = new Queue(QUEUE_NAMES.reconcilePriority, opts);
    this.grants = new Queue(QUEUE_NAMES.grants, opts);
    this.revocations = new Queue(QUEUE_NAMES.revocations, opts);
  }

  async ready(): Promise<void> {
    if (this.connection.status !== 'ready') await new Promise<void>((resolve, reject) => {
      this.connection.once('ready', resolve);
      this.connection.once('error', reject);
    });
  }

  async enqueueReconciles(jobs: readonly ReconcileJob[], lane: 'normal' | 'priority' = 'normal'): Promise<void> {
    const queue = lane === 'priority' ? this.reconcilePriority : this.reconcile;
    for (let i = 0; i < jobs.length; i += BULK) {
      await queue.addBulk(
        jobs.slice(i, i + BULK).map((data) => ({
          name: 'reconcile',
          data,
          opts: { ...RETENTION, jobId: reconcileJobId(data), attempts: this.config.attempts, backoff: { type: 'lanyard' } },
        })),
      );
    }
  }

  async enqueueConnectorWork(work: readonly ConnectorWork[]): Promise<void> {
    for (const lane of ['revoke', 'grant'] as const) {
      const items = work.filter((w) => w.lane === lane);
      const queue = lane === 'revoke' ? this.revocations : this.grants;
      for (let i = 0; i < items.length; i += BULK) {
        await queue.addBulk(
          items.slice(i, i + BULK).map((data) => ({
            name: lane,
            data,
            opts: { ...RETENTION, jobId: connectorWorkId(data), attempts: this.config.attempts, backoff: { type: 'lanyard' } },
          })),
        );
      }
    }
  }

  /** Jobs waiting, delayed or running, per queue. */
  async depth(): Promise<Record<keyof typeof QUEUE_NAMES, number>> {
    const count = (q: Queue) => q.getJobCountByTypes('wait', 'delayed', 'active', 'prioritized');
    const [reconcile, reconcilePriority, grants, revocations] = await Promise.all([count(this.reconcile), count(this.reconcilePriority), count(this.grants), count(this.revocations)]);
    return { reconcile, reconcilePriority, grants, revocations };
  }

  async close(): Promise<void> {
    await Promise.all([this.reconcile.close(), this.reconcilePriority.close(), this.grants.close(), this.revocations.close()]);
    this.connection.disconnect();
  }
}
