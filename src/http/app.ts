import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { pinoHttp } from 'pino-http';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { type Metrics, metricsHandler, processMetrics } from '../metrics/registry.js';
import { createStatusRegistry, queueDepthReader } from '../metrics/status-gauges.js';
import { scimErrorHandler } from '../scim/http/scim-error-handler.js';
import { scimRouter } from '../scim/http/scim-router.js';
import type { TenantContext } from '../scim/tenant-context.js';
import type { OnUsersMarked } from '../store/reconcile-outbox.js';
import { requestId } from './request-id.js';
import { adminRouter } from '../admin/admin-router.js';
import type { AdminServices } from '../admin/admin-services.js';
import { OidcBearerVerifier } from '../admin/oidc-bearer.js';
import { authenticateOperator, authorize } from '../admin/operator-auth.js';
import { DASHBOARD_PATH } from '../admin/dashboard-path.js';

export interface AppDeps {
  config: Config;
  /** The services the admin API runs on: the runtime's, as the CLI uses them. */
  admin: Omit<AdminServices, 'config' | 'pool' | 'log'>;
  pool: pg.Pool;
  redis: Redis;
  log: Logger;
  onMarked?: OnUsersMarked;
  /** Where requests are counted; by default the process's metrics, which the workers of `lanyard start` share. */
  metrics?: Metrics;
}

/** The HTTP service: health endpoints and every tenant's SCIM endpoint. */
export function createApp({ config, pool, redis, log, onMarked, admin, metrics = processMetrics() }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Resource ETags are SCIM versions, set by the handlers; Express's body hashes would contradict them.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: log,
      genReqId: requestId,
      customProps: (_req, res) => {
        const scim = (res as unknown as Response).locals?.['scim'] as TenantContext | undefined;
        return scim ? { tenant: scim.slug } : {};
      },
      // Query strings are left out of logs: filters carry user names and e-mail addresses.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [postgres, redisOk] = await Promise.all([
      pool.query('SELECT 1').then(() => true, () => false),
      redis.ping().then((r) => r === 'PONG', () => false),
    ]);
    const ready = postgres && redisOk;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', postgres: postgres ? 'ok' : 'down', redis: redisOk ? 'ok' : 'down' });
  });
  const services: AdminServices = { ...admin, config, pool, log };
  const oidc = config.admin.oidc ? new OidcBearerVerifier(config.admin.oidc) : undefined;
  const operator = authenticateOperator({ keys: services.operatorKeys, oidc, log });
  // Metrics name tenants, so they are for operators who see every tenant (an auditor key suits a scraper).
  const status = createStatusRegistry({ pool, log, queueDepth: queueDepthReader(config.redisUrl, config.jobs, redis) });
  app.get('/metrics', operator, authorize('tenant.read'), metricsHandler(metrics.registry, status));
  const dashboard = {
    path: DASHBOARD_PATH,
    load: async () => (await import('../admin/queue-dashboard.js')).queueDashboard(services.queues(), `/admin/v1${DASHBOARD_PATH}`, config.jobs.queuePrefix),
  };
  app.use('/admin/v1', adminRouter(services, { authenticate: operator, dashboard }));

  app.use('/scim/v2', metrics.scimRequests);

  app.use(
    '/scim/v2/:tenant',
    scimRouter({
      pool,
      log,
      publicBaseUrl: config.publicBaseUrl,
      maxBodyBytes: config.scim.maxBodyBytes,
      maxResults: config.scim.maxResults,
      defaultCount: config.scim.defaultCount,
      rateLimit: { redis, prefix: config.jobs.queuePrefix, perSecond: config.scim.rateLimitPerSecond, burst: config.scim.rateBurst },
      ...(onMarked ? { onMarked } : {}),
    }),
  );
  // Errors raised while matching the tenant segment itself never reach the SCIM router's handler.
  app.use('/scim/v2', scimErrorHandler(log));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    req.log.error({ err }, 'request failed');
    res.status(500).json({ error: 'internal_error' });
  });
  return app;
}
