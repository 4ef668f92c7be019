import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TenantContext } from '../scim/tenant-context.js';

/** Any other method (the HTTP parser admits a few dozen) is counted as `other`, keeping the label bounded. */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const OTHER = METHODS.length;
const STARTED = Symbol('lanyard.metrics.started');

/** Seconds; SCIM answers are tens of milliseconds, and an IdP times a request out after tens of seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface MethodSeries {
  duration: Histogram.Internal<'tenant' | 'method'>;
  byStatus: Map<number, Counter.Internal>;
}

type TimedResponse = Response & { [STARTED]?: number };

/**
 * Counts SCIM requests and times them, by tenant slug, method and status code, as express middleware.
 *
 * The tenant is the one authentication established, never the slug from the URL: a request with no valid
 * token carries an empty tenant, so callers cannot mint label values. Status codes are Lanyard's own
 * (a dozen RFC 7644 answers), which tell an expired token (401) from a conflict (409) where a class would
 * not. Per request the cost is a clock read and a listener; the label children are resolved once per
 * tenant, method and status and kept, so no label set is built or hashed on the request path. Requests the
 * client abandons before the answer is sent are not counted.
 */
export function createScimRequestMetrics(registry: Registry): (req: Request, res: Response, next: NextFunction) => void {
  const requests = new Counter({
    name: 'lanyard_scim_requests_total',
    help: 'SCIM requests answered, by tenant, method and status code',
    labelNames: ['tenant', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lanyard_scim_request_duration_seconds',
    help: 'Time from receiving a SCIM request to sending its answer, by tenant and method',
    labelNames: ['tenant', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const tenants = new Map<string, MethodSeries[]>();

  const seriesOf = (tenant: string, method: number): MethodSeries => {
    let byMethod = tenants.get(tenant);
    if (!byMethod) tenants.set(tenant, (byMethod = []));
    let series = byMethod[method];
    if (!series) {
      const name = METHODS[method] ?? 'other';
      byMethod[method] = series = { duration: duration.labels(tenant, name), byStatus: new Map() };
    }
    return series;
  };

  // One listener for every response: `this` is the response, so nothing is allocated per request for it.
  function onFinish(this: TimedResponse): void {
    const started = this[STARTED];
    if (started === undefined) return;
    const tenant = (this.locals['scim'] as TenantContext | undefined)?.slug ?? '';
    const method = METHODS.indexOf(this.req.method as (typeof METHODS)[number]);
    const series = seriesOf(tenant, method < 0 ? OTHER : method);
    let counter = series.byStatus.get(this.statusCode);
    if (!counter) series.byStatus.set(this.statusCode, (counter = requests.labels(tenant, METHODS[method] ?? 'other', String(this.statusCode))));
    counter.inc();
    series.duration.observe((performance.now() - started) / 1000);
  }

  return (_req, res, next) => {
    (res as TimedResponse)[STARTED] = performance.now();
    res.on('finish', onFinish);
    next();
  };
}
