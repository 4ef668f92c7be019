import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/admin/admin-routes.js';
import { createApp } from '../../src/http/app.js';
import { TenantService } from '../../src/tenants/tenant-service.js';
import { startOAuthServer } from '../helpers/oauth-server.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

/**
 * What holds for every operation of /admin/v1 alike: the OpenAPI document describes exactly what is served,
 * nothing is reached without a valid credential, each role and tenant scope is enforced on every route,
 * and failures are problem details with the right status.
 */
let svc: TestService;
const routes = adminRoutes();
const keys: Record<string, { Authorization: string }> = {};

beforeAll(async () => {
  svc = await startTestService();
  await svc.tenant('acme');
  await svc.tenant('globex');
  for (const [name, role, tenants] of [
    ['msp', 'msp-admin', undefined],
    ['acme-admin', 'tenant-admin', ['acme']],
    ['auditor', 'auditor', undefined],
  ] as const) {
    const { key } = await svc.runtime.operatorKeys.create({ name, role, tenants: tenants ? [...tenants] : undefined }, 'operator:test');
    keys[name] = { Authorization: `Bearer ${key}` };
  }
}, 60_000);

afterAll(async () => {
  await svc?.close();
});

/** A concrete URL for a route, about `slug` where it names a tenant. */
function urlOf(path: string, slug: string): string {
  return `/admin/v1${path.replace('{slug}', slug).replace('{id}', '00000000-0000-4000-8000-000000000000').replace('{name}', 'crm')}`;
}

function send(method: string, url: string, auth?: { Authorization: string }) {
  const req = svc.http[method as 'get'](url);
  return auth ? req.set(auth) : req;
}

describe('the OpenAPI document', () => {
  it('is served without a credential, as OpenAPI 3.1, with every operation the router serves and its problems', async () => {
    const res = await svc.http.get('/admin/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; requestBody?: unknown }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `${method} ${path} ${op.operationId}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort());
    for (const r of routes) {
      const op = doc.paths[r.path]![r.method]!;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([String(r.answer.status), '401', '403', '503']));
      expect(Boolean(op.requestBody)).toBe(Boolean(r.body));
    }
    expect(doc.components.schemas['Problem']).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']) });
    expect(doc.components.securitySchemes['operator']).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The schemas are the ones requests are checked with: a constraint of the zod schema shows in the document.
    const tenantBody = (doc.paths['/tenants']!['post']!.requestBody as { content: Record<string, { schema: { properties: { slug: { pattern: string } } } }> }).content['application/json']!.schema;
    expect(tenantBody.properties.slug.pattern).toBe('^[a-z0-9][a-z0-9-]{1,62}$');
  });
});

describe('authentication and authorisation, on every operation', () => {
  it('answers 401 with a Bearer challenge without a credential, and with one that is not valid', async () => {
    for (const r of routes) {
      const url = urlOf(r.path, 'acme');
      const none = await send(r.method, url);
      expect(none.status, `${r.method} ${r.path}`).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="lanyard-admin"');
      expect(none.body).toMatchObject({ code: 'unauthorized' });
      const wrong = await send(r.method, url, { Authorization: 'Bearer lanyard_op_not-a-key' });
      expect(wrong.status, `${r.method} ${r.path}`).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'invalid_token' });
    }
  });

  it("refuses each role what it may not do (403 forbidden), and a tenant-admin every other tenant's routes", async () => {
    // What the roles are for, written out independently of the permission table.
    const auditorMay = new Set(['tenant.read', 'audit.read', 'evidence.read']);
    const tenantAdminLists = new Set(['tenant.read']);
    const refused: string[] = [];
    for (const r of routes) {
      const url = urlOf(r.path, 'globex');
      const expectations: [string, boolean][] = [
        ['auditor', auditorMay.has(r.action)],
        // acme's admin, on routes about globex, across tenants or about the MSP: only listings, which show it
        // acme alone, and what concerns no tenant (validating a policy).
        ['acme-admin', (r.scope === 'listing' || r.scope === 'any') && tenantAdminLists.has(r.action)],
      ];
      for (const [who, allowed] of expectations) {
        const res = await send(r.method, url, keys[who]);
        if (allowed) {
          expect(res.status, `${who} ${r.method} ${r.path}`).not.toBe(403);
          continue;
        }
        expect(res.status, `${who} ${r.method} ${r.path}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'forbidden', type: 'urn:lanyard:problem:forbidden' });
        refused.push(`${who} ${r.operationId}`);
      }
    }
    expect(refused).toEqual(expect.arrayContaining(['auditor createTenant', 'auditor applyPolicy', 'auditor listUsers', 'acme-admin getTenant', 'acme-admin listGrants', 'acme-admin createOperatorKey']));
  });

  it('lets a tenant-admin into its own tenant but never to user edits or tenant changes', async () => {
    expect((await svc.http.get('/admin/v1/tenants/acme/connectors').set(keys['acme-admin']!)).status).toBe(200);
    expect((await svc.http.post('/admin/v1/tenants/acme/suspend').set(keys['acme-admin']!)).status).toBe(403);
    expect((await svc.http.post('/admin/v1/tenants/acme/tokens').set(keys['acme-admin']!).send({})).status).toBe(403);
  });
});

describe('errors', () => {
  it('answers a malformed body, an invalid one and an unknown operation with problem details', async () => {
    const malformed = await svc.http.post('/admin/v1/tenants').set(keys['msp']!).set('Content-Type', 'application/json').send('{"slug":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'malformed_body' });
    const invalid = await svc.http.post('/admin/v1/tenants').set(keys['msp']!).send({ slug: 42 });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'invalid_request', errors: [{ path: 'body.slug', message: expect.any(String) }] });
    const unknown = await svc.http.get('/admin/v1/nothing-here').set(keys['msp']!);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'no_such_route' });
  });

  it('answers 503 with Retry-After, not 404 or 500, when PostgreSQL cannot be reached', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    const deadPool = new pg.Pool({ connectionString: `postgres://nobody@127.0.0.1:${port}/none`, connectionTimeoutMillis: 500 });
    deadPool.on('error', () => {});
    const redis = new Redis(svc.config.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const app = createApp({
        config: svc.config,
        pool: svc.runtime.pool,
        redis,
        log: svc.runtime.log,
        admin: { ...svc.runtime, tenants: new TenantService(deadPool) },
      });
      const res = await supertest(app).get('/admin/v1/tenants/acme').set(keys['msp']!);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toMatchObject({ code: 'unavailable' });
    } finally {
      redis.disconnect();
      await deadPool.end();
    }
  });
});

describe('the queue dashboard', () => {
  it('is served under the admin path to msp-admins only', async () => {
    const page = await svc.http.get('/admin/v1/queues').set(keys['msp']!);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<!DOCTYPE html>');
    const api = await svc.http.get('/admin/v1/queues/api/queues').set(keys['msp']!);
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['reconcile', 'grants', 'revocations', 'lifecycle']));
    expect((await svc.http.get('/admin/v1/queues')).status).toBe(401);
    expect((await svc.http.get('/admin/v1/queues/api/queues').set(keys['acme-admin']!)).status).toBe(403);
    expect((await svc.http.get('/admin/v1/queues').set(keys['auditor']!)).status).toBe(403);
  });
});

describe('/metrics', () => {
  it('needs an operator who sees every tenant', async () => {
    expect((await svc.http.get('/metrics')).status).toBe(401);
    expect((await svc.http.get('/metrics').set(keys['acme-admin']!)).status).toBe(403);
    const scraped = await svc.http.get('/metrics').set(keys['auditor']!);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('lanyard_tenant_grants');
  });
});

describe('OIDC sign-in, as the service is configured', () => {
  it('accepts a JWT of ADMIN_OIDC_ISSUER for the configured audience, acts under its name, and refuses another audience', async () => {
    const issuer = await startOAuthServer({ tokenTtlSeconds: 300, jwtAccessTokens: true });
    const audience = 'https://lanyard.test/admin/v1';
    const oidc = await startTestService({
      ADMIN_OIDC_ISSUER: issuer.issuer,
      ADMIN_OIDC_AUDIENCE: audience,
      ADMIN_OIDC_ROLE_MAP: 'lanyard-msp-admins=msp-admin,acme-admins=tenant-admin:acme',
    });
    try {
      const jwt = (groups: string[], aud = audience) => issuer.jwtAccessToken({ audience: aud, claims: { groups, preferred_username: 'ada@msp.example' } });
      const created = await oidc.http.post('/admin/v1/tenants').set({ Authorization: `Bearer ${await jwt(['lanyard-msp-admins'])}` }).send({ slug: 'acme' });
      expect(created.status).toBe(201);
      const events = await oidc.sql<{ actor: string }>("SELECT actor FROM audit_events WHERE tenant_id = $1 AND action = 'tenant.created'", [created.body.id]);
      expect(events).toEqual([{ actor: 'operator:oidc:ada@msp.example' }]);

      const tenantAdmin = { Authorization: `Bearer ${await jwt(['acme-admins'])}` };
      expect((await oidc.http.get('/admin/v1/tenants/acme/connectors').set(tenantAdmin)).status).toBe(200);
      expect((await oidc.http.post('/admin/v1/tenants').set(tenantAdmin).send({ slug: 'globex' })).status).toBe(403);

      const elsewhere = await oidc.http.get('/admin/v1/tenants').set({ Authorization: `Bearer ${await jwt(['lanyard-msp-admins'], 'https://other.example/api')}` });
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.body).toMatchObject({ code: 'invalid_token' });
    } finally {
      await oidc.close();
      await issuer.close();
    }
  });
});
