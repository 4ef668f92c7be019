import { Counter, type Registry } from 'prom-client';
import { QUEUE_NAMES } from '../provisioning/jobs.js';

/**
 * What happened to a job: `completed` (done, nothing left to retry), `failed` (an attempt threw; BullMQ
 * retries it with backoff while attempts remain), `parked` (downstream work given up on and left for an
 * operator: `lanyard jobs failed`), `delayed` (put back for later: its connector is paused after a 429,
 * or the other lane is working on the same account).
 */
export type JobOutcome = 'completed' | 'failed' | 'parked' | 'delayed';

/**
 * The workers' recorder of job outcomes. Called from worker events, once per outcome; it must be cheap and
 * never throw, since a job's bookkeeping must not depend on it.
 */
export interface JobMetrics {
  job(queue: string, outcome: JobOutcome): void;
}

const OUTCOMES: readonly JobOutcome[] = ['completed', 'failed', 'parked', 'delayed'];

/** `lanyard_jobs_total{queue, outcome}`, every known queue and outcome present from the start at zero. */
export function createJobMetrics(registry: Registry): JobMetrics {
  const jobs = new Counter({
    name: 'lanyard_jobs_total',
    help: 'Provisioning jobs by queue and outcome (completed, failed attempt, parked for an operator, delayed)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  // Label children are looked up once per queue and outcome, not hashed again for every job.
  const children = new Map<string, Map<JobOutcome, Counter.Internal>>();
  const childOf = (queue: string, outcome: JobOutcome) => {
    let byOutcome = children.get(queue);
    if (!byOutcome) children.set(queue, (byOutcome = new Map()));
    let child = byOutcome.get(outcome);
    if (!child) byOutcome.set(outcome, (child = jobs.labels(queue, outcome)));
    return child;
  };
  for (const queue of Object.values(QUEUE_NAMES)) for (const outcome of OUTCOMES) childOf(queue, outcome).inc(0);
  return {
    job(queue, outcome) {
      childOf(queue, outcome).inc();
    },
  };
}
