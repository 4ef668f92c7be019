import { once } from 'node:events';
import type { Server } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';
import { CORE_GROUP } from '../../src/scim/schemas.js';
import { startTestService, type TestService } from './test-service.js';

/** What the downstream does to the next requests of one application: answer with an error, or answer late. */
export type Fault = { status: number; retryAfter?: string; times: number } | { delayMs: number };

export interface DownstreamApp {
  slug: string;
  /** The `scim` connector configuration that reaches this application. */
  config: { baseUrl: string; auth: { type: 'bearer'; token: string } };
  /** Arrival times of every request this application received. */
  requests: number[];
  /** Arrival times of the requests answered with an injected error. */
  faulted: number[];
  fault: Fault | undefined;
  /**
   * When set, callers must present a token this accepts (an OAuth access token), as a SaaS behind an
   * authorization server would; anything else is answered 401.
   */
  acceptToken: ((token: string) => Promise<boolean>) | undefined;
  /** The downstream user Lanyard created for `userId` (found by externalId), with its group names. */
  user(userId: string): Promise<{ active: boolean; groups: string[] } | null>;
  /** The downstream user by its own id, as the connector conformance suite inspects it. */
  view(id: string): Promise<{ exists: boolean; enabled: boolean; grants: string[] }>;
  /** How many downstream users carry this externalId: more than one would be a duplicate account. */
  accounts(userId: string): Promise<number>;
}

export interface DownstreamScim {
  app(slug: string, groups: string[]): Promise<DownstreamApp>;
  close(): Promise<void>;
}

/**
 * Real SCIM 2.0 applications for the `scim` connector: tenants of a Lanyard SCIM endpoint listening on a
 * port, each standing in for one SaaS application, behind a layer that can make one of them answer 429 or
 * 5xx, or answer slowly, the way real downstreams misbehave.
 */
export async function startDownstreamScim(): Promise<DownstreamScim> {
  const service: TestService = await startTestService();
  const redis = new Redis(service.config.redisUrl, { maxRetriesPerRequest: 1 });
  const apps = new Map<string, DownstreamApp>();
  const outer = express();
  outer.use('/scim/v2/:tenant', async (req, res, next) => {
    const app = apps.get(String(req.params['tenant']));
    if (!app) return next();
    app.requests.push(Date.now());
    if (app.acceptToken) {
      const presented = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
      if (!presented || !(await app.acceptToken(presented))) {
        res.status(401).json({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401', detail: 'invalid token' });
        return;
      }
      // Past the gate, the application's own SCIM endpoint takes its own credential.
      req.headers.authorization = `Bearer ${app.config.auth.token}`;
    }
    const fault = app.fault;
    if (fault && 'delayMs' in fault) {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      return next();
    }
    if (fault && fault.times > 0) {
      fault.times -= 1;
      app.faulted.push(Date.now());
      if (fault.retryAfter) res.set('Retry-After', fault.retryAfter);
      res.status(fault.status).json({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(fault.status), detail: 'injected' });
      return;
    }
    next();
  });
  outer.use(createApp({ config: service.config, pool: service.runtime.pool, admin: service.runtime, redis, log: createLogger('silent') }));
  const server: Server = outer.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    async app(slug, groups) {
      const tenant = await service.tenant(slug);
      for (const displayName of groups) {
        const res = await service.http.post(`${tenant.path}/Groups`).set(tenant.auth).send({ schemas: [CORE_GROUP], displayName });
        if (res.status !== 201) throw new Error(`cannot create downstream group ${displayName}: ${res.status}`);
      }
      const app: DownstreamApp = {
        slug,
        config: { baseUrl: `${base}/scim/v2/${slug}`, auth: { type: 'bearer', token: tenant.token } },
        requests: [],
        faulted: [],
        fault: undefined,
        acceptToken: undefined,
        async user(userId) {
          const [row] = await service.sql<{ active: boolean; groups: string[] }>(
            `SELECT u.active, ARRAY(SELECT g.display_name FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
                                     WHERE gm.tenant_id = u.tenant_id AND gm.user_id = u.id ORDER BY 1) AS groups
               FROM users u WHERE u.tenant_id = $1 AND u.external_id = $2`,
            [tenant.id, userId],
          );
          return row ?? null;
        },
        async view(id) {
          const [row] = await service.sql<{ active: boolean; groups: string[] }>(
            `SELECT u.active, ARRAY(SELECT 'group:' || g.display_name FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
                                     WHERE gm.tenant_id = u.tenant_id AND gm.user_id = u.id ORDER BY 1) AS groups
               FROM users u WHERE u.tenant_id = $1 AND u.id = $2`,
            [tenant.id, id],
          );
          return { exists: Boolean(row), enabled: row?.active ?? false, grants: row?.groups ?? [] };
        },
        async accounts(userId) {
          const rows = await service.sql('SELECT 1 FROM users WHERE tenant_id = $1 AND external_id = $2', [tenant.id, userId]);
          return rows.length;
        },
      };
      apps.set(slug, app);
      return app;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      redis.disconnect();
      await service.close();
    },
  };
}
