import { randomUUID } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcBearerVerifier } from '../../src/admin/oidc-bearer.js';
import { authenticateOperator, authorize, operatorOf } from '../../src/admin/operator-auth.js';
import { verifyAudit } from '../../src/audit/verify-chain.js';
import { parseRoleMap, type RoleMap } from '../../src/operators/oidc-role-map.js';
import { mintOperatorKey } from '../../src/operators/operator-key.js';
import { OperatorKeyService } from '../../src/operators/operator-key-service.js';
import { eventually } from '../helpers/eventually.js';
import { type OAuthServer, startOAuthServer } from '../helpers/oauth-server.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

const AUDIENCE = 'https://lanyard.test/admin/v1';
const DAY = 86_400_000;
const log = pino({ level: 'silent' });

let svc: TestService;
let keys: OperatorKeyService;
let issuer: OAuthServer;
let otherIssuer: OAuthServer;
let acme: TestTenant;
let globex: TestTenant;
let http: TestAgent;
/** How far the JWT verifier's clock runs ahead of the real one. */
let clockAheadMs = 0;

function roleMap(text: string): RoleMap {
  const parsed = parseRoleMap(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.map;
}

/** A stand-in for the admin API: the real middleware, and a few routes guarded by `can`. */
function adminApp(verifier: OidcBearerVerifier | undefined): express.Express {
  const app = express();
  const tenantParam = (req: express.Request) => String(req.params['tenant']);
  const who = (_req: express.Request, res: express.Response) => {
    res.json(operatorOf(res));
  };
  const admin = express.Router();
  admin.use(authenticateOperator({ keys, oidc: verifier, log }));
  admin.post('/tenants', authorize('tenant.write'), who);
  admin.get('/tenants/:tenant', authorize('tenant.read', tenantParam), who);
  admin.put('/tenants/:tenant/policy', authorize('policy.write', tenantParam), who);
  admin.get('/tenants/:tenant/users', authorize('user.read', tenantParam), who);
  admin.get('/tenants/:tenant/evidence', authorize('evidence.read', tenantParam), who);
  app.use('/admin/v1', admin);
  return app;
}

beforeAll(async () => {
  svc = await startTestService();
  acme = await svc.tenant('acme');
  globex = await svc.tenant('globex');
  keys = new OperatorKeyService(svc.runtime.pool, { defaultTtlMs: 30 * DAY, maxTtlMs: 90 * DAY }, log);
  [issuer, otherIssuer] = await Promise.all([
    startOAuthServer({ tokenTtlSeconds: 300, jwtAccessTokens: true }),
    startOAuthServer({ tokenTtlSeconds: 300, jwtAccessTokens: true }),
  ]);
  const verifier = new OidcBearerVerifier(
    {
      issuer: issuer.issuer,
      audience: AUDIENCE,
      roleClaim: 'groups',
      roleMap: roleMap('lanyard-msp-admins=msp-admin,acme-admins=tenant-admin:acme,auditors=auditor'),
    },
    { now: () => new Date(Date.now() + clockAheadMs) },
  );
  http = supertest(adminApp(verifier));
}, 60_000);

afterAll(async () => {
  await issuer?.close();
  await otherIssuer?.close();
  await svc?.close();
});

const bearer = (credential: string) => ({ Authorization: `Bearer ${credential}` });

function expectProblem(res: supertest.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `urn:lanyard:problem:${code}`, status, code });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
}

function expectUnauthorized(res: supertest.Response, detail?: RegExp): void {
  expectProblem(res, 401, 'invalid_token');
  expect(res.headers['www-authenticate']).toBe('Bearer realm="lanyard-admin", error="invalid_token"');
  if (detail) expect(res.body.detail).toMatch(detail);
}

describe('operator API keys', () => {
  it('lets an msp-admin key do everything, on every tenant', async () => {
    const { key, record } = await keys.create({ name: 'ops-bot', role: 'msp-admin' }, 'operator:test');
    const res = await http.post('/admin/v1/tenants').set(bearer(key));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: record.id, name: 'ops-bot', via: 'api-key', role: 'msp-admin', tenants: 'all' });
    for (const slug of [acme.slug, globex.slug]) {
      expect((await http.put(`/admin/v1/tenants/${slug}/policy`).set(bearer(key))).status).toBe(200);
      expect((await http.get(`/admin/v1/tenants/${slug}/users`).set(bearer(key))).status).toBe(200);
    }
  });

  it('lets a tenant-admin key act on its tenant only', async () => {
    const { key } = await keys.create({ name: 'acme-admin', role: 'tenant-admin', tenants: [acme.slug] }, 'operator:test');
    const own = await http.put(`/admin/v1/tenants/${acme.slug}/policy`).set(bearer(key));
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ role: 'tenant-admin', tenants: [acme.slug] });
    expect((await http.get(`/admin/v1/tenants/${acme.slug}/users`).set(bearer(key))).status).toBe(200);

    const other = await http.put(`/admin/v1/tenants/${globex.slug}/policy`).set(bearer(key));
    expectProblem(other, 403, 'forbidden');
    expect(other.body.detail).toContain(`tenant "${globex.slug}"`);
    expectProblem(await http.get(`/admin/v1/tenants/${globex.slug}`).set(bearer(key)), 403, 'forbidden');
    expectProblem(await http.post('/admin/v1/tenants').set(bearer(key)), 403, 'forbidden');
  });

  it('lets an auditor key read evidence, and change nothing', async () => {
    const { key } = await keys.create({ name: 'auditor-q3', role: 'auditor' }, 'operator:test');
    expect((await http.get(`/admin/v1/tenants/${globex.slug}/evidence`).set(bearer(key))).status).toBe(200);
    expect((await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(key))).status).toBe(200);
    expectProblem(await http.put(`/admin/v1/tenants/${acme.slug}/policy`).set(bearer(key)), 403, 'forbidden');
    expectProblem(await http.get(`/admin/v1/tenants/${acme.slug}/users`).set(bearer(key)), 403, 'forbidden');
    expectProblem(await http.post('/admin/v1/tenants').set(bearer(key)), 403, 'forbidden');
  });

  it('refuses an expired key with 401', async () => {
    const { key, record } = await keys.create({ name: 'old', role: 'msp-admin' }, 'operator:test');
    await svc.sql(`UPDATE operator_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = $1`, [record.id]);
    expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(key)), /expired/);
  });

  it('refuses a revoked key with 401, at once', async () => {
    const { key, record } = await keys.create({ name: 'leaked', role: 'msp-admin' }, 'operator:test');
    expect((await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(key))).status).toBe(200);
    expect(await keys.revoke(record.id, 'operator:test')).toBe('revoked');
    expect(await keys.revoke(record.id, 'operator:test')).toBe('already_revoked');
    expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(key)), /revoked/);
  });

  it('refuses unknown, garbled and wrong-secret keys alike, and SCIM tokens', async () => {
    const { key } = await keys.create({ name: 'real', role: 'msp-admin' }, 'operator:test');
    const wrongSecret = `${key.slice(0, -43)}${'A'.repeat(43)}`;
    for (const credential of [mintOperatorKey(randomUUID()).key, wrongSecret, 'lanyard_op_123_abc', key.slice(0, -1), acme.token, 'not-a-key']) {
      expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(credential)));
    }
    // Unknown and wrong-secret answer the same, so the answer does not tell which key ids exist.
    const unknown = await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(mintOperatorKey(randomUUID()).key));
    const wrong = await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(wrongSecret));
    expect(unknown.body).toEqual(wrong.body);
  });

  it('asks for credentials when none are presented', async () => {
    for (const headers of [{}, { Authorization: 'Basic dXNlcjpwYXNz' }, { Authorization: 'Bearer' }]) {
      const res = await http.get(`/admin/v1/tenants/${acme.slug}`).set(headers);
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="lanyard-admin"');
    }
  });

  it('records the last use, coarsely', async () => {
    const { key, record } = await keys.create({ name: 'used', role: 'auditor' }, 'operator:test');
    expect(record.lastUsedAt).toBeNull();
    await http.get(`/admin/v1/tenants/${acme.slug}/evidence`).set(bearer(key));
    await eventually(async () => {
      const [row] = await svc.sql<{ last_used_at: Date | null }>('SELECT last_used_at FROM operator_keys WHERE id = $1', [record.id]);
      expect(row!.last_used_at).not.toBeNull();
    });
    const [first] = await svc.sql<{ last_used_at: Date }>('SELECT last_used_at FROM operator_keys WHERE id = $1', [record.id]);
    await http.get(`/admin/v1/tenants/${acme.slug}/evidence`).set(bearer(key));
    await new Promise((r) => setTimeout(r, 200));
    const [second] = await svc.sql<{ last_used_at: Date }>('SELECT last_used_at FROM operator_keys WHERE id = $1', [record.id]);
    expect(second!.last_used_at.getTime()).toBe(first!.last_used_at.getTime());
  });

  it('validates what a key is created with', async () => {
    await expect(keys.create({ name: 'x', role: 'tenant-admin' }, 'operator:test')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(keys.create({ name: 'x', role: 'auditor', tenants: [acme.slug] }, 'operator:test')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(keys.create({ name: 'x', role: 'root' }, 'operator:test')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(keys.create({ name: 'has space', role: 'auditor' }, 'operator:test')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(keys.create({ name: 'x', role: 'auditor', ttlMs: 91 * DAY }, 'operator:test')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(keys.create({ name: 'x', role: 'tenant-admin', tenants: ['nope'] }, 'operator:test')).rejects.toMatchObject({ code: 'not_found' });
    await expect(keys.revoke(randomUUID(), 'operator:test')).rejects.toMatchObject({ code: 'not_found' });
    await expect(keys.revoke('not-a-uuid', 'operator:test')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('audit of operator keys', () => {
  it("records a tenant-admin key in each of its tenants' chains and in operator_events, leaving the chains valid", async () => {
    const { record } = await keys.create({ name: 'partner-admin', role: 'tenant-admin', tenants: [acme.slug, globex.slug] }, 'operator:cli:alice');
    await keys.revoke(record.id, 'operator:cli:bob');
    for (const tenant of [acme, globex]) {
      const events = await svc.sql<{ action: string; actor: string; resource_type: string; entry: string }>(
        `SELECT action, actor, resource_type, entry FROM audit_events WHERE tenant_id = $1 AND action LIKE 'operator_key.%' AND entry LIKE '%' || $2 || '%' ORDER BY seq`,
        [tenant.id, record.id],
      );
      expect(events.map((e) => [e.action, e.actor, e.resource_type])).toEqual([
        ['operator_key.created', 'operator:cli:alice', 'tenant'],
        ['operator_key.revoked', 'operator:cli:bob', 'tenant'],
      ]);
      // A tenant's chain does not learn which other tenants the key administers.
      const other = tenant === acme ? globex : acme;
      expect(events.some((e) => e.entry.includes(other.slug))).toBe(false);
      expect((await verifyAudit(svc.runtime.pool, tenant.id)).ok).toBe(true);
    }
    const msp = await svc.sql<{ action: string; actor: string; detail: Record<string, unknown> }>(
      'SELECT action, actor, detail FROM operator_events WHERE resource_id = $1 ORDER BY seq',
      [record.id],
    );
    expect(msp.map((e) => e.action)).toEqual(['operator_key.created', 'operator_key.revoked']);
    expect(msp[0]!.detail).toMatchObject({ name: 'partner-admin', role: 'tenant-admin', tenants: [acme.slug, globex.slug].sort() });
  });

  it('records MSP-wide keys in operator_events only, never with their secret', async () => {
    const before = await svc.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    const { key, record } = await keys.create({ name: 'msp-wide', role: 'auditor' }, 'operator:test');
    expect((await svc.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n).toBe(before[0]!.n);
    const [event] = await svc.sql<{ detail: unknown }>('SELECT detail FROM operator_events WHERE resource_id = $1', [record.id]);
    expect(JSON.stringify(event)).not.toContain(key.slice(-43));
    const [stored] = await svc.sql<{ secret_hash: Buffer }>('SELECT secret_hash FROM operator_keys WHERE id = $1', [record.id]);
    expect(stored!.secret_hash).toHaveLength(32);
  });

  it('keeps operator_events append-only and key roles fixed for the app role', async () => {
    const { record } = await keys.create({ name: 'fixed', role: 'auditor' }, 'operator:test');
    const app = svc.runtime.pool;
    for (const statement of [
      'UPDATE operator_events SET actor = $1',
      'DELETE FROM operator_events WHERE actor <> $1',
      'UPDATE operator_keys SET role = $1',
      'UPDATE operator_keys SET expires_at = now() + interval \'300 days\' WHERE id::text <> $1',
      'DELETE FROM operator_keys WHERE id::text <> $1',
    ]) {
      await expect(app.query(statement, ['msp-admin'])).rejects.toMatchObject({ code: '42501' });
    }
    await expect(app.query('INSERT INTO operator_events (occurred_at, actor, action, resource_type) VALUES (now() - interval \'1 year\', $1, \'x.y\', \'z\')', ['me'])).rejects.toMatchObject({
      code: '42501',
    });
    expect((await svc.sql<{ role: string }>('SELECT role FROM operator_keys WHERE id = $1', [record.id]))[0]!.role).toBe('auditor');
  });
});

describe('OIDC bearer JWTs', () => {
  const jwt = (groups: string[], opts: { audience?: string; from?: OAuthServer; ttlSeconds?: number } = {}) =>
    (opts.from ?? issuer).jwtAccessToken({ audience: opts.audience ?? AUDIENCE, claims: { groups, preferred_username: 'alice@example.com' }, ttlSeconds: opts.ttlSeconds });

  it('maps an msp-admin group to msp-admin', async () => {
    const res = await http.post('/admin/v1/tenants').set(bearer(await jwt(['everyone', 'lanyard-msp-admins'])));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'alice@example.com', via: 'oidc', role: 'msp-admin', tenants: 'all' });
    expect(res.body.id).toBe(issuer.clientId);
  });

  it('maps a tenant group to tenant-admin of that tenant only', async () => {
    const token = await jwt(['acme-admins']);
    const own = await http.put(`/admin/v1/tenants/${acme.slug}/policy`).set(bearer(token));
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ role: 'tenant-admin', tenants: ['acme'] });
    expectProblem(await http.put(`/admin/v1/tenants/${globex.slug}/policy`).set(bearer(token)), 403, 'forbidden');
  });

  it('maps the auditors group to auditor', async () => {
    const token = await jwt(['auditors']);
    expect((await http.get(`/admin/v1/tenants/${globex.slug}/evidence`).set(bearer(token))).status).toBe(200);
    expectProblem(await http.put(`/admin/v1/tenants/${globex.slug}/policy`).set(bearer(token)), 403, 'forbidden');
  });

  it('refuses an expired JWT with 401, beyond the clock tolerance only', async () => {
    const token = await jwt(['lanyard-msp-admins'], { ttlSeconds: 60 });
    try {
      clockAheadMs = 75_000; // expired 15 s ago: within the tolerance
      expect((await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(token))).status).toBe(200);
      clockAheadMs = 10 * 60_000;
      expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(token)), /expired/);
    } finally {
      clockAheadMs = 0;
    }
  });

  it('refuses a JWT for another audience with 401', async () => {
    const token = await jwt(['lanyard-msp-admins'], { audience: 'https://crm.example.com/api' });
    expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(token)), /not valid/);
  });

  it('refuses a JWT of another issuer with 401', async () => {
    const token = await jwt(['lanyard-msp-admins'], { from: otherIssuer });
    expectUnauthorized(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(token)), /not valid/);
  });

  it('refuses a JWT whose signature was tampered with', async () => {
    const [header, payload, signature] = (await jwt(['auditors'])).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, groups: ['lanyard-msp-admins'] })).toString('base64url');
    expectUnauthorized(await http.post('/admin/v1/tenants').set(bearer(`${header}.${forged}.${signature}`)));
  });

  it('answers 403 to a valid JWT none of whose groups maps to a role', async () => {
    const res = await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(await jwt(['everyone', 'Lanyard-MSP-Admins'])));
    expectProblem(res, 403, 'forbidden');
    expect(res.body.detail).toContain('alice@example.com');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="lanyard-admin", error="insufficient_scope"');
    expectProblem(await http.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(await jwt([]))), 403, 'forbidden');
  });

  it('accepts no JWT at all when OIDC is not configured', async () => {
    const keysOnly = supertest(adminApp(undefined));
    expectUnauthorized(await keysOnly.get(`/admin/v1/tenants/${acme.slug}`).set(bearer(await jwt(['lanyard-msp-admins']))));
  });

  it('answers 503, not 401, while the issuer cannot be reached', async () => {
    const unreachable = new OidcBearerVerifier({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, roleClaim: 'groups', roleMap: roleMap('a=auditor') }, { timeoutMs: 1_000 });
    const res = await supertest(adminApp(unreachable)).get(`/admin/v1/tenants/${acme.slug}`).set(bearer(await jwt(['auditors'])));
    expectProblem(res, 503, 'unavailable');
    expect(res.headers['retry-after']).toBe('5');
  });
});
