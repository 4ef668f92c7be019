import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createApp } from '../../src/http/app.js';
import { type RunningWorkers, startWorkers } from '../../src/provisioning/workers.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestService {
  runtime: Runtime;
  config: Config;
  database: TestDatabase;
  workers: RunningWorkers | undefined;
  http: TestAgent;
  /**
   * A query as the database owner, outside row-level security: for reading or tampering with what the
   * service stored, the way an operator with database access could.
   */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** A tenant with one fresh token; returns its slug, token and SCIM base path. */
  tenant(slug?: string): Promise<TestTenant>;
  /** The environment the real CLI needs to act on this service's database and queues. */
  cliEnv(): Record<string, string>;
  close(): Promise<void>;
}

export interface TestTenant {
  slug: string;
  id: string;
  token: string;
  tokenId: string;
  /** Path prefix for supertest, e.g. `/scim/v2/acme`. */
  path: string;
  auth: { Authorization: string };
}

let counter = 0;

/** A queue prefix of its own per service, so test files running at once never take each other's jobs. */
export function testQueuePrefix(): string {
  return `test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * The real app (real PostgreSQL, real Redis) on a database and queue prefix of its own, driven in-process
 * by supertest. With `workers`, the provisioning workers run in the same process, as `lanyard start` runs
 * them.
 */
export async function startTestService(env: Record<string, string> = {}, opts: { workers?: boolean } = {}): Promise<TestService> {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LANYARD_MASTER_KEY: TEST_MASTER_KEY,
    PUBLIC_BASE_URL: 'https://lanyard.test',
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: testQueuePrefix(),
    ...env,
  });
  const log = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const runtime = await openRuntime(config, log);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const app = createApp({ config, pool: runtime.pool, redis, log, admin: runtime, onMarked: (tenantId, userIds, change) => void runtime.onMarked(tenantId, userIds, change) });
  const workers = opts.workers
    ? await startWorkers({ pool: runtime.pool, queues: runtime.queues(), redisUrl: config.redisUrl, masterKey: config.masterKey, config: config.jobs, audit: config.audit, log })
    : undefined;
  const http = supertest(app);
  let owner: Promise<pg.Client> | undefined;
  return {
    runtime,
    config,
    database,
    http,
    workers,
    async sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      owner ??= (async () => {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        return client;
      })();
      return (await (await owner).query<R>(text, values)).rows;
    },
    cliEnv() {
      return { DATABASE_URL: database.url, LANYARD_MASTER_KEY: TEST_MASTER_KEY, REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.jobs.queuePrefix };
    },
    async tenant(slug?: string) {
      const name = slug ?? `t${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
      const tenant = await runtime.tenants.create({ slug: name }, 'operator:test');
      const issued = await runtime.tokens.issue(name, {}, 'operator:test');
      return {
        slug: name,
        id: tenant.id,
        token: issued.token,
        tokenId: issued.id,
        path: `/scim/v2/${name}`,
        auth: { Authorization: `Bearer ${issued.token}` },
      };
    },
    async close() {
      await workers?.close();
      if (owner) await (await owner).end();
      redis.disconnect();
      await runtime.close();
      await database.drop();
    },
  };
}
