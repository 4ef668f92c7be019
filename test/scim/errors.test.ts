import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_USER as USER, ERROR_MESSAGE as ERROR } from '../../src/scim/schemas.js';
import { withAdmin } from '../helpers/databases.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

let svc: TestService;
let t: TestTenant;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

interface Res {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

function expectScimError(res: Res, status: number, scimType?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status) });
  if (scimType) expect(res.body['scimType']).toBe(scimType);
  expect(typeof res.body['detail']).toBe('string');
  expect(res.body['detail']).not.toBe('');
}

async function countUsers(service: TestService, tenant: TestTenant): Promise<number> {
  const res = await service.http.get(`${tenant.path}/Users`).query({ count: 0 }).set(tenant.auth);
  expect(res.status).toBe(200);
  return res.body.totalResults as number;
}

describe('request bodies', () => {
  it('a body over SCIM_MAX_BODY_BYTES is 413 with a SCIM error body, and nothing is stored', async () => {
    const small = await startTestService({ SCIM_MAX_BODY_BYTES: '2048' });
    try {
      const tenant = await small.tenant();
      const body = JSON.stringify({ schemas: [USER], userName: 'big@example.com', title: 'x'.repeat(5 * 1024) });
      expect(body.length).toBeGreaterThan(5000);
      const res = await small.http.post(`${tenant.path}/Users`).set(tenant.auth).set('Content-Type', 'application/scim+json').send(body);
      expectScimError(res, 413);
      // A body under the limit goes through on the same service.
      const fits = await small.http.post(`${tenant.path}/Users`).set(tenant.auth).send({ schemas: [USER], userName: 'small@example.com' });
      expect(fits.status).toBe(201);
      const found = await small.http.get(`${tenant.path}/Users`).query({ filter: 'userName eq "big@example.com"' }).set(tenant.auth);
      expect(found.body.totalResults).toBe(0);
      expect(await countUsers(small, tenant)).toBe(1);
    } finally {
      await small.close();
    }
  });

  it('malformed JSON is 400 invalidSyntax', async () => {
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).set('Content-Type', 'application/scim+json').send('{"schemas": ["urn:');
    expectScimError(res, 400, 'invalidSyntax');
    const patch = await svc.http.patch(`${t.path}/Users/${crypto.randomUUID()}`).set(t.auth).set('Content-Type', 'application/json').send('{Operations:}');
    expectScimError(patch, 400, 'invalidSyntax');
  });

  it('a JSON array (or a bare string) as the body of POST /Users is 400', async () => {
    const before = await countUsers(svc, t);
    const array = await svc.http
      .post(`${t.path}/Users`)
      .set(t.auth)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify([{ schemas: [USER], userName: 'in-array@example.com' }]));
    expectScimError(array, 400);
    const scalar = await svc.http.post(`${t.path}/Users`).set(t.auth).set('Content-Type', 'application/json').send('"just a string"');
    expectScimError(scalar, 400);
    expect(await countUsers(svc, t)).toBe(before);
  });
});

describe('list parameters', () => {
  it('a filter that does not parse is 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName zz "x"', '(userName eq "x"', 'password eq "x"']) {
      const res = await svc.http.get(`${t.path}/Users`).query({ filter }).set(t.auth);
      expectScimError(res, 400, 'invalidFilter');
    }
  });

  it('startIndex=abc is 400 invalidValue', async () => {
    const res = await svc.http.get(`${t.path}/Users?startIndex=abc`).set(t.auth);
    expectScimError(res, 400, 'invalidValue');
    expect(res.body['detail']).toContain('startIndex');
    expectScimError(await svc.http.get(`${t.path}/Groups?count=1.5`).set(t.auth), 400, 'invalidValue');
  });

  it('sortOrder=sideways is 400', async () => {
    const res = await svc.http.get(`${t.path}/Users?sortBy=userName&sortOrder=sideways`).set(t.auth);
    expectScimError(res, 400);
    expect(res.body['detail']).toContain('sortOrder');
  });
});

describe('endpoints', () => {
  it('an unknown SCIM endpoint is 404 with a SCIM error body', async () => {
    expectScimError(await svc.http.get(`${t.path}/Nope`).set(t.auth), 404);
    expectScimError(await svc.http.post(`${t.path}/Nope`).set(t.auth).send({}), 404);
    expectScimError(await svc.http.get(`${t.path}/ResourceTypes/Nope`).set(t.auth), 404);
  });

  it('a path that is not valid percent-encoding is 400 with a SCIM error body, not 500', async () => {
    expectScimError(await svc.http.get(`${t.path}/Users/%E0%A4%A`).set(t.auth), 400);
    expectScimError(await svc.http.delete(`${t.path}/Groups/%ZZ`).set(t.auth), 400);
    // In the tenant segment too, before the tenant is known.
    expectScimError(await svc.http.get('/scim/v2/%E0%A4%A/Users').set(t.auth), 400);
  });

  it('/Bulk is 501', async () => {
    const res = await svc.http
      .post(`${t.path}/Bulk`)
      .set(t.auth)
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] });
    expectScimError(res, 501);
  });

  it('GET /healthz is 200 and GET /readyz is 200 ready', async () => {
    const health = await svc.http.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await svc.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', postgres: 'ok', redis: 'ok' });
  });
});

describe('database outage', () => {
  async function allowConnections(name: string, allow: boolean): Promise<void> {
    await withAdmin(async (c) => {
      await c.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} ALLOW_CONNECTIONS ${allow ? 'true' : 'false'}`);
      if (!allow) {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      }
    });
  }

  it('is 503 with Retry-After, never 404 or 2xx, and the service recovers', async () => {
    const down = await startTestService();
    try {
      const tenant = await down.tenant();
      const existing = await down.http.post(`${tenant.path}/Users`).set(tenant.auth).send({ schemas: [USER], userName: 'before@example.com' });
      expect(existing.status).toBe(201);

      await allowConnections(down.database.name, false);
      try {
        const attempts: [string, () => Promise<Res>][] = [
          ['GET /Users', () => down.http.get(`${tenant.path}/Users`).set(tenant.auth)],
          ['GET /Users/<random>', () => down.http.get(`${tenant.path}/Users/${crypto.randomUUID()}`).set(tenant.auth)],
          ['GET /Users/<existing>', () => down.http.get(`${tenant.path}/Users/${existing.body.id}`).set(tenant.auth)],
          ['POST /Users', () => down.http.post(`${tenant.path}/Users`).set(tenant.auth).send({ schemas: [USER], userName: 'during@example.com' })],
          ['DELETE /Users/<existing>', () => down.http.delete(`${tenant.path}/Users/${existing.body.id}`).set(tenant.auth)],
        ];
        for (const [what, attempt] of attempts) {
          const res = await attempt();
          expect(res.status, what).toBe(503);
          expectScimError(res, 503);
          expect(res.headers['retry-after'], what).toMatch(/^\d+$/);
          // The reason stays in the log, not in the response.
          expect(JSON.stringify(res.body), what).not.toContain(down.database.name);
        }
        const ready = await down.http.get('/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ status: 'unavailable', postgres: 'down' });
      } finally {
        await allowConnections(down.database.name, true);
      }

      const recovered = await down.http.get(`${tenant.path}/Users`).set(tenant.auth);
      expect(recovered.status).toBe(200);
      expect((recovered.body.Resources as { userName: string }[]).map((u) => u.userName)).toEqual(['before@example.com']);
      expect((await down.http.get('/readyz')).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});
