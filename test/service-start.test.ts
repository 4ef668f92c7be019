import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, randomName, withAdmin } from './helpers/databases.js';
import { SERVICE_NODE_FLAGS, startServiceProcess } from './helpers/service-process.js';
import { TEST_MASTER_KEY } from './helpers/test-service.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('starting the service', () => {
  it('creates its database when missing, migrates it, and answers /healthz and /readyz', async () => {
    const name = randomName('lanyard_start');
    created.push(name);
    const service = await startServiceProcess({ DATABASE_URL: databaseUrl(name), LANYARD_MASTER_KEY: TEST_MASTER_KEY });
    try {
      expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok' });
      const tables = await withAdmin(
        async (c) => (await c.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename),
        name,
      );
      expect(tables).toEqual(expect.arrayContaining(['tenants', 'scim_tokens', 'users', 'groups', 'group_members', 'audit_events']));
    } finally {
      await service.stop();
    }
    expect(service.child.exitCode).toBe(0);
  }, 60_000);

  it('refuses to start on a bad setting, naming the variable', async () => {
    await expect(startServiceProcess({ REDIS_URL: 'http://nope', LANYARD_MASTER_KEY: TEST_MASTER_KEY })).rejects.toThrow(/REDIS_URL/);
  }, 60_000);

  it('runs with the same Node.js flags as npm start', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(`node ${SERVICE_NODE_FLAGS.join(' ')} bin/lanyard.js start`);
  });
});
