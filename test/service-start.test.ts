import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/eventually.js';
import { databaseUrl, dropDatabase, randomName, withAdmin } from './helpers/databases.js';
import { ENTRIES, SERVICE_NODE_FLAGS, startServiceProcess } from './helpers/service-process.js';
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

  it('stops cleanly when told to while its workers are still starting', async () => {
    const name = randomName('lanyard_early_stop');
    created.push(name);
    // Answered as soon as HTTP is up, before the workers: the stop lands in the middle of the start.
    const service = await startServiceProcess({ DATABASE_URL: databaseUrl(name), LANYARD_MASTER_KEY: TEST_MASTER_KEY });
    await service.stop();
    expect(service.child.exitCode).toBe(0);
  }, 60_000);

    it('refuses to start on a bad setting, naming the variable', async () => {
    await expect(startServiceProcess({ REDIS_URL: 'http://nope', LANYARD_MASTER_KEY: TEST_MASTER_KEY })).rejects.toThrow(/REDIS_URL/);
  }, 60_000);

  it('runs with the same Node.js flags and the same compiled entry as npm start, which builds first', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`node ${SERVICE_NODE_FLAGS.join(' ')} ${ENTRIES.built} start`);
    expect(pkg.scripts['prestart']).toBe('npm run build --silent');
  });

  it('starts from the compiled build as npm start runs it', async () => {
    const name = randomName('lanyard_built');
    created.push(name);
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: new URL('..', import.meta.url), stdio: 'pipe' });
    const service = await startServiceProcess({ DATABASE_URL: databaseUrl(name), LANYARD_MASTER_KEY: TEST_MASTER_KEY }, 30_000, [], 'start', 'built');
    try {
      // Ready once its Redis connection is up, which may follow /healthz by a moment on a busy machine.
      await eventually(async () => expect(await (await fetch(`${service.url}/readyz`)).json()).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok' }), { timeoutMs: 10_000 });
    } finally {
      await service.stop();
    }
    expect(service.child.exitCode).toBe(0);
  }, 90_000);
});
