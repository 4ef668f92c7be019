import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';
import { LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
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
  const app = createApp({ config: downstream.config, pool: downstream.runtime.pool, admin: downstream.runtime, redis, log: createLogger('silent') });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/scim/v2/crm`;
  owner = new pg.Client({ connectionString: downstream.database.url });
  await owner.connect();
}

function connector(token = crm.token, url = baseUrl, extra: Record<string, unknown> = {}) {
  return scimConnector.create(scimConnector.configSchema.parse({ baseUrl: url, auth: { type: 'bearer', token }, ...extra }), { log });
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

describe('scim connector: last activity', () => {
  // Lanyard's SCIM server keeps no last-login time. The one date-time attribute it stores, its own
  // extension's accessEndDate, stands in here for a vendor's last-login attribute.
  const ACTIVITY = `${LANYARD_ACCESS}:accessEndDate`;
  const withActivity = (attribute = ACTIVITY) => connector(crm.token, baseUrl, { activityAttribute: attribute });

  /** A downstream user made by the connector, then given `value` through the application's own SCIM API. */
  async function downstreamUser(value?: Record<string, unknown>) {
    const userId = randomUUID();
    const { value: ref } = await connector().accounts!.ensure({ userId, userName: `seen.${userId.slice(0, 8)}@globex.example` }, { idempotencyKey: userId });
    if (value) {
      const res = await downstream.http.patch(`${crm.path}/Users/${ref.id}`).set(crm.auth).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value }] });
      expect(res.status).toBe(204);
    }
    return ref;
  }

  it('reports the configured attribute of the user as a date, whatever the case of its name', async () => {
    const ref = await downstreamUser({ [LANYARD_ACCESS]: { accessEndDate: '2026-03-01T09:30:00.250+01:00' } });
    expect(await withActivity().lastActivity!(ref)).toEqual(new Date('2026-03-01T08:30:00.250Z'));
    expect(await withActivity(ACTIVITY.toUpperCase().replace('URN:', 'urn:')).lastActivity!(ref)).toEqual(new Date('2026-03-01T08:30:00.250Z'));
  });

  it('reads a core sub-attribute path too', async () => {
    const ref = await downstreamUser();
    const res = await downstream.http.get(`${crm.path}/Users/${ref.id}`).set(crm.auth);
    const lastModified = (res.body as { meta: { lastModified: string } }).meta.lastModified;
    expect(await withActivity('meta.lastModified').lastActivity!(ref)).toEqual(new Date(lastModified));
  });

  it('answers null when the user carries no value for the attribute', async () => {
    const ref = await downstreamUser({ [LANYARD_ACCESS]: { organization: 'Globex' } });
    expect(await withActivity().lastActivity!(ref)).toBeNull();
  });

  it('has no lastActivity unless activityAttribute is configured', () => {
    expect('lastActivity' in connector()).toBe(false);
    expect(typeof withActivity().lastActivity).toBe('function');
  });

  it('refuses a value that is not an RFC 3339 date-time as invalid_response, naming the attribute', async () => {
    // nickName is a plain string downstream: what a vendor's mis-typed or mis-configured attribute looks like.
    const words = await downstreamUser({ nickName: 'last Tuesday' });
    const error = await withActivity('nickName').lastActivity!(words).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'ConnectorError', code: 'invalid_response', message: 'nickName is not an RFC 3339 date-time' });
    // A time without an offset names no instant, though Date.parse would read it in this process's zone.
    const local = await downstreamUser({ nickName: '2026-03-01T09:30:00' });
    await expect(withActivity('nickName').lastActivity!(local)).rejects.toMatchObject({ name: 'ConnectorError', code: 'invalid_response' });
  });

  it('reports a user that is gone as not_found, not as null', async () => {
    const ref = await downstreamUser();
    await connector().accounts!.remove!(ref, { idempotencyKey: `remove-${ref.id}` });
    await expect(withActivity().lastActivity!(ref)).rejects.toMatchObject({ name: 'ConnectorError', code: 'not_found' });
  });

  it('accepts only a SCIM attribute path as activityAttribute', () => {
    const valid = (activityAttribute: unknown) => scimConnector.configSchema.safeParse({ baseUrl, auth: { type: 'bearer', token: 't' }, activityAttribute }).success;
    for (const path of ['urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin', 'urn:acme:User:signIn.lastAt', 'lastLogin', 'meta.lastModified', 'urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified']) {
      expect(valid(path), path).toBe(true);
    }
    for (const path of ['', 'last login', 'emails[type eq "work"].value', 'a.b.c', 'urn:acme:User:', 'urn::lastLogin', '2fa.at', 42]) {
      expect(valid(path), String(path)).toBe(false);
    }
  });
});
