import type { Request, Response } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createScimRequestMetrics } from './http-metrics.js';
import { createJobMetrics, type JobMetrics } from './job-metrics.js';

/** The metrics a process records as it works, in one registry. */
export interface Metrics {
  registry: Registry;
  /** Express middleware counting and timing SCIM requests. */
  scimRequests: ReturnType<typeof createScimRequestMetrics>;
  /**
   * What the provisioning workers record their job outcomes with, registered on first use: a process that
   * runs no workers shows no job counters rather than counters stuck at zero.
   */
  jobs(): JobMetrics;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Memory, CPU, event-loop lag and GC of the process, under their usual names.
  collectDefaultMetrics({ register: registry });
  let jobs: JobMetrics | undefined;
  return { registry, scimRequests: createScimRequestMetrics(registry), jobs: () => (jobs ??= createJobMetrics(registry)) };
}

let current: Metrics | undefined;

/**
 * The process's metrics, created on first use. One per process because what they count is the process:
 * in `lanyard start` the HTTP service and the workers record into the same registry, which `/metrics`
 * serves. A `lanyard serve` process runs no workers, so it serves no job counters; a `lanyard worker`
 * serves no HTTP, so it records none.
 */
export function processMetrics(): Metrics {
  return (current ??= createMetrics());
}

/** Serves registries as one Prometheus text page; their metric names must not overlap. */
export function metricsHandler(...registries: Registry[]) {
  return async (_req: Request, res: Response): Promise<void> => {
    const pages = await Promise.all(registries.map((r) => r.metrics()));
    res.type(Registry.PROMETHEUS_CONTENT_TYPE).send(pages.join('\n'));
  };
}
