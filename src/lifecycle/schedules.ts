import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { CheckpointTask } from '../audit/checkpoint-files.js';
import type { JobsConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { JobQueues } from '../provisioning/job-queues.js';
import { markDueUsers } from '../store/lifecycle-store.js';

/** The queue the schedules' jobs run on, apart from the provisioning queues. */
export const LIFECYCLE_QUEUE = 'lifecycle';
/** Users marked per run at most; what is left is due at the next run. */
const DUE_PER_RUN = 50_000;

/** A schedule: a job BullMQ creates every `everyMs`, once across all worker processes. */
export interface Schedule {
  id: string;
  everyMs: number;
  run(): Promise<Record<string, number>>;
}

export interface RunningSchedules {
  /** Runs one schedule now, in this process (what a test or `lanyard` command uses to not wait for the timer). */
  runNow(id: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * The lifecycle's own schedule: users with something due are marked and their reconciles queued on the
 * priority lane (what is due takes access away). The reconcile decides what happens, so a run repeated,
 * or run by two processes at once, changes nothing twice.
 */
export function dueSchedule(pool: pg.Pool, queues: JobQueues, everyMs: number): Schedule {
  return {
    id: 'lifecycle-due',
    everyMs,
    async run() {
      const marked = await markDueUsers(pool, DUE_PER_RUN);
      await queues.enqueueReconciles(marked, 'priority');
      return { marked: marked.length };
    },
  };
}

/** Signed audit checkpoints written on a schedule (see `auditCheckpointTask`). */
export function checkpointSchedule(task: CheckpointTask, log: Logger): Schedule {
  return {
    id: 'audit-checkpoint',
    everyMs: task.everyMs,
    async run() {
      const results = await task.run();
      const diverged = results.filter((r) => r.status === 'diverged');
      // A head that disagrees with its own signed checkpoint is what the checkpoints exist to catch.
      if (diverged.length) log.error({ tenants: diverged.map((r) => r.tenantId) }, 'audit chain disagrees with its last signed checkpoint: run lanyard audit verify');
      return { written: results.filter((r) => r.status === 'written').length, diverged: diverged.length };
    },
  };
}

/**
 * Registers the schedules as BullMQ job schedulers (idempotent: every worker process does it, one job per
 * interval results) and runs their jobs. A run missed while no worker was up is not replayed: each
 * schedule looks at what is due now, which includes what the missed run would have found.
 */
export async function startSchedules(deps: { connection: Redis; config: JobsConfig; log: Logger; schedules: Schedule[] }): Promise<RunningSchedules> {
  const { connection, config, log } = deps;
  const byId = new Map(deps.schedules.map((s) => [s.id, s]));
  const queue = new Queue(LIFECYCLE_QUEUE, { connection, prefix: config.queuePrefix });
  for (const schedule of deps.schedules) {
    await queue.upsertJobScheduler(schedule.id, { every: schedule.everyMs }, { name: schedule.id, opts: { removeOnComplete: true, removeOnFail: true } });
  }
  const run = async (id: string) => {
    const schedule = byId.get(id);
    if (!schedule) throw new Error(`no schedule "${id}"`);
    const started = Date.now();
    const result = await schedule.run();
    if (Object.values(result).some((n) => n > 0)) log.info({ schedule: id, ms: Date.now() - started, ...result }, 'schedule ran');
    return result;
  };
  const worker = new Worker(LIFECYCLE_QUEUE, async (job: Job) => run(job.name), {
    connection,
    prefix: config.queuePrefix,
    concurrency: 1,
    lockDuration: config.lockMs,
  });
  worker.on('failed', (job, err) => log.warn({ schedule: job?.name, err: { message: err.message } }, 'schedule run failed; the next run covers it'));
  worker.on('error', (err) => log.warn({ err: { message: err.message } }, 'schedule worker error'));
  await worker.waitUntilReady();
  return {
    runNow: run,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
