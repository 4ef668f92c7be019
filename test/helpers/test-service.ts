import { Redis } from 'ioredis';
import pino from 'pino';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createApp } from '../../src/http/app.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestService {
  runtime: Runtime;
  config: Config;
  database: TestDatabase;
  http: TestAgent;
  /** A tenant with one fresh token; returns its slug, token and SCIM base path. */
  tenant(slug?: string): Promise<TestTenant>;
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

/** The real app (real PostgreSQL, real Redis) on a database of its own, driven in-process by supertest. */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LANYARD_MASTER_KEY: TEST_MASTER_KEY,
    PUBLIC_BASE_URL: 'https://lanyard.test',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const runtime = await openRuntime(config, log);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const app = createApp({ config, pool: runtime.pool, redis, log });
  const http = supertest(app);
  return {
    runtime,
    config,
    database,
    http,
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
      redis.disconnect();
      await runtime.close();
      await database.drop();
    },
  };
}
