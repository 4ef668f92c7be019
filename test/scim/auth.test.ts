import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_MESSAGE as ERROR } from '../../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

const TOKEN_SHAPE = /^lanyard_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => svc.close());

/** Runs SQL as the superuser, which row-level security does not restrict. */
async function admin<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: svc.database.url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function auditActions(tenantId: string): Promise<{ action: string; resource_id: string | null }[]> {
  return admin('SELECT action, resource_id FROM audit_events WHERE tenant_id = $1 ORDER BY seq', [tenantId]);
}

function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** Changes the last character of a token, keeping it syntactically valid. */
function tamper(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

function expectUnauthorized(res: { status: number; body: Record<string, unknown>; headers: Record<string, string> }): void {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
  expect(typeof res.body['detail']).toBe('string');
  expect(res.body['detail']).not.toBe('');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
}

async function expireToken(tokenId: string): Promise<void> {
  await admin(`UPDATE scim_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1`, [tokenId]);
}

describe('bearer token checks', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await svc.tenant();
  });

  it('a valid token is accepted', async () => {
    const res = await svc.http.get(`${t.path}/Users`).set(t.auth);
    expect(res.status).toBe(200);
  });

  it('missing Authorization is 401 with a SCIM error body and a Bearer challenge', async () => {
    const res = await svc.http.get(`${t.path}/Users`);
    expectUnauthorized(res);
  });

  it('an Authorization header that is not a bearer token is 401', async () => {
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set('Authorization', 'non-token'));
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set('Authorization', 'Bearer not-a-lanyard-token'));
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`));
  });

  it('authentication comes before the body is read: no token, or a wrong one, is 401 whatever the body', async () => {
    const malformed = '{"schemas": [';
    expectUnauthorized(await svc.http.post(`${t.path}/Users`).set('Content-Type', 'application/scim+json').send(malformed));
    expectUnauthorized(await svc.http.post(`${t.path}/Users`).set(bearer(tamper(t.token))).set('Content-Type', 'application/scim+json').send(malformed));
    const oversized = JSON.stringify({ userName: 'x'.repeat(svc.config.scim.maxBodyBytes + 1) });
    expectUnauthorized(await svc.http.post(`${t.path}/Users`).set('Content-Type', 'application/scim+json').send(oversized));
  });

  it('a well-formed token with the wrong secret is 401', async () => {
    const wrong = tamper(t.token);
    expect(wrong).toMatch(TOKEN_SHAPE);
    expect(wrong).not.toBe(t.token);
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set(bearer(wrong)));
  });

  it("a token of tenant A on tenant B's URL is 401, and so is an unknown tenant (not 404)", async () => {
    const other = await svc.tenant();
    expectUnauthorized(await svc.http.get(`${other.path}/Users`).set(t.auth));
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set(other.auth));
    const unknown = await svc.http.get('/scim/v2/no-such-tenant-here/Users').set(t.auth);
    expectUnauthorized(unknown);
    // Discovery endpoints are behind the same check.
    expectUnauthorized(await svc.http.get('/scim/v2/no-such-tenant-here/ServiceProviderConfig').set(t.auth));
  });

  it('an expired token is 401', async () => {
    const tenant = await svc.tenant();
    const issued = await svc.runtime.tokens.issue(tenant.slug, { ttlMs: 1000 }, 'op');
    const ok = await svc.http.get(`${tenant.path}/Users`).set(bearer(issued.token));
    expect(ok.status).toBe(200);
    await expireToken(issued.id);
    expectUnauthorized(await svc.http.get(`${tenant.path}/Users`).set(bearer(issued.token)));
    const listed = await svc.runtime.tokens.list(tenant.slug);
    expect(listed.find((x) => x.id === issued.id)?.state).toBe('expired');
  });

  it('a revoked token is 401 at once; revoking again says already_revoked', async () => {
    const tenant = await svc.tenant();
    expect((await svc.http.get(`${tenant.path}/Users`).set(tenant.auth)).status).toBe(200);
    expect(await svc.runtime.tokens.revoke(tenant.slug, tenant.tokenId, 'op')).toBe('revoked');
    expectUnauthorized(await svc.http.get(`${tenant.path}/Users`).set(tenant.auth));
    expect(await svc.runtime.tokens.revoke(tenant.slug, tenant.tokenId, 'op')).toBe('already_revoked');
    expectUnauthorized(await svc.http.get(`${tenant.path}/Users`).set(tenant.auth));
  });

  it('revoking a token of another tenant, or an unknown id, is not_found', async () => {
    const other = await svc.tenant();
    await expect(svc.runtime.tokens.revoke(t.slug, other.tokenId, 'op')).rejects.toMatchObject({ name: 'DomainError', code: 'not_found' });
    await expect(svc.runtime.tokens.revoke(t.slug, 'not-a-uuid', 'op')).rejects.toMatchObject({ name: 'DomainError', code: 'not_found' });
    // The other tenant's token still works.
    expect((await svc.http.get(`${other.path}/Users`).set(other.auth)).status).toBe(200);
  });
});

describe('tenant status', () => {
  it('a suspended tenant is 403 with a SCIM error body; resuming lets traffic through again', async () => {
    const t = await svc.tenant();
    await svc.runtime.tenants.setStatus(t.slug, 'suspended', 'op');
    const res = await svc.http.get(`${t.path}/Users`).set(t.auth);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '403' });
    expect(res.body.detail).toBeTruthy();
    const post = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'while-suspended@example.com' });
    expect(post.status).toBe(403);

    await svc.runtime.tenants.setStatus(t.slug, 'active', 'op');
    const again = await svc.http.get(`${t.path}/Users`).set(t.auth);
    expect(again.status).toBe(200);
    expect(again.body.totalResults).toBe(0);
  });

  it('a suspended tenant gets no new tokens', async () => {
    const t = await svc.tenant();
    await svc.runtime.tenants.setStatus(t.slug, 'suspended', 'op');
    await expect(svc.runtime.tokens.issue(t.slug, {}, 'op')).rejects.toMatchObject({ name: 'DomainError', code: 'conflict' });
  });
});

describe('two-slot rotation', () => {
  it('allows at most two active tokens: a third issue is limit_reached', async () => {
    const t = await svc.tenant();
    await svc.runtime.tokens.issue(t.slug, {}, 'op');
    await expect(svc.runtime.tokens.issue(t.slug, {}, 'op')).rejects.toMatchObject({ name: 'DomainError', code: 'limit_reached' });
    const states = (await svc.runtime.tokens.list(t.slug)).map((x) => x.state);
    expect(states).toEqual(['active', 'active']);
  });

  it('two concurrent issues for a tenant with one token leave exactly two active', async () => {
    const t = await svc.tenant();
    const results = await Promise.allSettled([svc.runtime.tokens.issue(t.slug, {}, 'op'), svc.runtime.tokens.issue(t.slug, {}, 'op')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'limit_reached' });
    expect((await svc.runtime.tokens.list(t.slug)).filter((x) => x.state === 'active')).toHaveLength(2);
  });

  it('rotation: old and new token both work, then revoking the old one leaves only the new', async () => {
    const t = await svc.tenant();
    const fresh = await svc.runtime.tokens.issue(t.slug, {}, 'op');
    const [oldRes, newRes] = await Promise.all([
      svc.http.get(`${t.path}/Users`).set(t.auth),
      svc.http.get(`${t.path}/Users`).set(bearer(fresh.token)),
    ]);
    expect(oldRes.status).toBe(200);
    expect(newRes.status).toBe(200);

    await svc.runtime.tokens.revoke(t.slug, t.tokenId, 'op');
    expectUnauthorized(await svc.http.get(`${t.path}/Users`).set(t.auth));
    expect((await svc.http.get(`${t.path}/Users`).set(bearer(fresh.token))).status).toBe(200);
    // The freed slot can be used again.
    const third = await svc.runtime.tokens.issue(t.slug, {}, 'op');
    expect((await svc.http.get(`${t.path}/Users`).set(bearer(third.token))).status).toBe(200);
  });

  it('an expired token does not count toward the two', async () => {
    const t = await svc.tenant();
    const second = await svc.runtime.tokens.issue(t.slug, {}, 'op');
    await expect(svc.runtime.tokens.issue(t.slug, {}, 'op')).rejects.toMatchObject({ code: 'limit_reached' });
    await expireToken(second.id);
    const third = await svc.runtime.tokens.issue(t.slug, {}, 'op');
    expect((await svc.http.get(`${t.path}/Users`).set(bearer(third.token))).status).toBe(200);
    expect((await svc.runtime.tokens.list(t.slug)).map((x) => [x.id, x.state])).toEqual(
      expect.arrayContaining([
        [t.tokenId, 'active'],
        [second.id, 'expired'],
        [third.id, 'active'],
      ]),
    );
  });

  it('a ttl above SCIM_TOKEN_MAX_TTL is refused as invalid_input and issues nothing', async () => {
    const t = await svc.tenant();
    const before = await svc.runtime.tokens.list(t.slug);
    await expect(svc.runtime.tokens.issue(t.slug, { ttlMs: svc.config.scim.tokenMaxTtlMs + 1 }, 'op')).rejects.toMatchObject({
      name: 'DomainError',
      code: 'invalid_input',
      message: expect.stringContaining('SCIM_TOKEN_MAX_TTL'),
    });
    expect(await svc.runtime.tokens.list(t.slug)).toHaveLength(before.length);
    // Exactly the maximum is allowed.
    const atMax = await svc.runtime.tokens.issue(t.slug, { ttlMs: svc.config.scim.tokenMaxTtlMs }, 'op');
    expect(atMax.expiresAt.getTime()).toBeGreaterThan(Date.now() + svc.config.scim.tokenMaxTtlMs - 60_000);
  });
});

describe('token storage', () => {
  it('keeps only a sha256 hash of the secret; no column holds the token or its secret', async () => {
    const t = await svc.tenant();
    const match = TOKEN_SHAPE.exec(t.token);
    expect(match).not.toBeNull();
    const secret = match![2]!;
    const rows = await admin<{ secret_hash: Buffer; row: string; json: string }>(
      'SELECT secret_hash, s::text AS row, row_to_json(s)::text AS json FROM scim_tokens s WHERE tenant_id = $1',
      [t.id],
    );
    expect(rows).toHaveLength(1);
    const stored = rows[0]!;
    expect(stored.secret_hash).toHaveLength(32);
    expect(stored.secret_hash.equals(createHash('sha256').update(secret, 'utf8').digest())).toBe(true);
    // Not the raw secret bytes either (they are 32 bytes too).
    expect(stored.secret_hash.equals(Buffer.from(secret, 'base64url'))).toBe(false);
    const secretBytesHex = Buffer.from(secret, 'base64url').toString('hex');
    for (const text of [stored.row, stored.json]) {
      expect(text).not.toContain(t.token);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secretBytesHex);
    }

    // No row of the whole table, nor of the audit trail, holds any part that authenticates.
    const all = await admin<{ row: string }>('SELECT s::text AS row FROM scim_tokens s UNION ALL SELECT a::text FROM audit_events a');
    for (const { row } of all) {
      expect(row).not.toContain(secret);
      expect(row).not.toContain(secretBytesHex);
    }
  });

  it('records last use after a request (asynchronously)', async () => {
    const t = await svc.tenant();
    const before = await admin<{ last_used_at: Date | null }>('SELECT last_used_at FROM scim_tokens WHERE id = $1', [t.tokenId]);
    expect(before[0]!.last_used_at).toBeNull();
    const startedAt = Date.now();
    expect((await svc.http.get(`${t.path}/Users`).set(t.auth)).status).toBe(200);
    let lastUsed: Date | null = null;
    for (let i = 0; i < 40 && !lastUsed; i++) {
      lastUsed = (await admin<{ last_used_at: Date | null }>('SELECT last_used_at FROM scim_tokens WHERE id = $1', [t.tokenId]))[0]!.last_used_at;
      if (!lastUsed) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lastUsed).not.toBeNull();
    expect(lastUsed!.getTime()).toBeGreaterThan(startedAt - 5_000);
    const listed = await svc.runtime.tokens.list(t.slug);
    expect(listed[0]!.lastUsedAt).not.toBeNull();
  });
});

describe('audit', () => {
  it('issuing and revoking tokens are audit events', async () => {
    const t = await svc.tenant();
    const second = await svc.runtime.tokens.issue(t.slug, {}, 'operator:alice');
    await svc.runtime.tokens.revoke(t.slug, second.id, 'operator:bob');
    await svc.runtime.tokens.revoke(t.slug, second.id, 'operator:bob');
    const events = await admin<{ action: string; resource_id: string; actor: string }>(
      'SELECT action, resource_id, actor FROM audit_events WHERE tenant_id = $1 ORDER BY seq',
      [t.id],
    );
    expect(events).toEqual([
      { action: 'tenant.created', resource_id: t.id, actor: 'operator:test' },
      { action: 'scim_token.issued', resource_id: t.tokenId, actor: 'operator:test' },
      { action: 'scim_token.issued', resource_id: second.id, actor: 'operator:alice' },
      // Revoking twice records one event: the second call changed nothing.
      { action: 'scim_token.revoked', resource_id: second.id, actor: 'operator:bob' },
    ]);
  });

  it("a suspended tenant's 403 and an invalid token's 401 leave no audit events", async () => {
    const t = await svc.tenant();
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'audit-probe@example.com' };

    const before401 = await auditActions(t.id);
    expect((await svc.http.post(`${t.path}/Users`).set(bearer(tamper(t.token))).send(user)).status).toBe(401);
    expect((await svc.http.post(`${t.path}/Users`).send(user)).status).toBe(401);
    expect(await auditActions(t.id)).toEqual(before401);

    await svc.runtime.tenants.setStatus(t.slug, 'suspended', 'op');
    const before403 = await auditActions(t.id);
    expect(before403.at(-1)!.action).toBe('tenant.suspended');
    expect((await svc.http.post(`${t.path}/Users`).set(t.auth).send(user)).status).toBe(403);
    expect((await svc.http.get(`${t.path}/Users`).set(t.auth)).status).toBe(403);
    expect(await auditActions(t.id)).toEqual(before403);
    const stored = await admin('SELECT 1 FROM users WHERE tenant_id = $1', [t.id]);
    expect(stored).toHaveLength(0);
  });
});
