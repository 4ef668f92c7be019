import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';
import { startTestService, type TestService, type TestTenant } from '../../test/helpers/test-service.js';
import { Redis } from 'ioredis';
import { connectorConformance } from '../kit/conformance.js';
import { scimConnector } from './index.js';

/**
 * The downstream is a real SCIM 2.0 server listening on a port: a tenant of Lanyard's own SCIM endpoint,
 * standing in for a SaaS application. What the connector did is read back from that server's database.
 */
let downstream: TestService;
let crm: TestTenant;
let server: Server;
let redis: Redis;
let baseUrl: string;
let owner: pg.Client;
const log = { debug() {}, info() {}, warn() {} };

async function setUp(): Promise<void> {
  if (baseUrl) return;
  downstream = await startTestService();
  crm = await downstream.tenant('crm');
  for (const displayName of ['Viewers', 'Editors']) {
    const res = await downstream.http.post(`${crm.path}/Groups`).set(crm.auth).send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName });
    expect(res.status).toBe(201);
  }
  redis = new Redis(downstream.config.redisUrl, { maxRetriesPerRequest: 1 });
  const app = createApp({ config: downstream.config, pool: downstream.runtime.pool, redis, log: createLogger('silent') });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/scim/v2/crm`;
  owner = new pg.Client({ connectionString: downstream.database.url });
  await owner.connect();
}

function connector(token = crm.token, url = baseUrl) {
  return scimConnector.create(scimConnector.configSchema.parse({ baseUrl: url, auth: { type: 'bearer', token } }), { log });
}

beforeAll(setUp, 60_000);
afterAll(async () => {
  await owner?.end();
  server?.close();
  redis?.disconnect();
  await downstream?.close();
});

connectorConformance('scim', async () => {
  await setUp();
  return {
    connector: connector(),
    entitlements: ['group:Viewers', 'group:Editors'],
    unknownEntitlement: 'group:Nope',
    newAccount: () => {
      const userId = randomUUID();
      return { userId, userName: `partner.${userId.slice(0, 8)}@globex.example`, displayName: 'Partner' };
    },
    async inspect(ref) {
      const user = await owner.query<{ active: boolean }>('SELECT active FROM users WHERE id = $1', [ref.id]);
      const groups = await owner.query<{ display_name: string }>(
        'SELECT g.display_name FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = $1 ORDER BY 1',
        [ref.id],
      );
      return { exists: user.rowCount === 1, enabled: user.rows[0]?.active ?? false, grants: groups.rows.map((g) => `group:${g.display_name}`) };
    },
  };
});

describe('scim connector', () => {
  it('finds its account again by the Lanyard user id, and follows a rename', async () => {
    const c = connector();
    const userId = randomUUID();
    const first = await c.accounts!.ensure({ userId, userName: `before.${userId.slice(0, 6)}@globex.example` }, { idempotencyKey: 'a' });
    const renamed = await c.accounts!.ensure({ userId, userName: `after.${userId.slice(0, 6)}@globex.example` }, { idempotencyKey: 'b' });
    expect(renamed).toEqual({ result: 'changed', value: first.value });
    const row = await owner.query<{ user_name: string; external_id: string }>('SELECT user_name, external_id FROM users WHERE id = $1', [first.value.id]);
    expect(row.rows[0]).toEqual({ user_name: `after.${userId.slice(0, 6)}@globex.example`, external_id: userId });
  });

  it('never takes over a downstream user it did not create', async () => {
    const res = await downstream.http.post(`${crm.path}/Users`).set(crm.auth).send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'taken@globex.example' });
    expect(res.status).toBe(201);
    await expect(connector().accounts!.ensure({ userId: randomUUID(), userName: 'taken@globex.example' }, { idempotencyKey: 'c' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reports a refused token and an unreachable server with their codes', async () => {
    await expect(connector('lanyard_00000000000000000000000000000000_' + 'x'.repeat(43)).verify()).rejects.toMatchObject({ name: 'ConnectorError', code: 'auth_failed' });
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    closed.close();
    await once(closed, 'close');
    await expect(connector(crm.token, `http://127.0.0.1:${port}/scim/v2/crm`).verify()).rejects.toMatchObject({ name: 'ConnectorError', code: 'unavailable' });
  });
});
