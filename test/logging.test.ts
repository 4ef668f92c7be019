import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/log/logger.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

let svc: TestService;
let t: TestTenant;
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

describe('logs', () => {
  it('are JSON lines with the request id and the tenant, and hold no token, filter or body', async () => {
    const log = createLogger('info', sink);
    const redis = new Redis(svc.config.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const http = supertest(createApp({ config: svc.config, pool: svc.runtime.pool, admin: svc.runtime, redis, log }));
      const created = await http
        .post(`${t.path}/Users?attributes=userName`)
        .set(t.auth)
        .set('X-Request-Id', 'req-abc-123')
        .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'logged@example.com', password: 'Pa55word!' });
      expect(created.status).toBe(201);
      expect(created.headers['x-request-id']).toBe('req-abc-123');
      await http.get(`${t.path}/Users`).query({ filter: 'userName eq "logged@example.com"' }).set(t.auth);
      const generated = await http.get(`${t.path}/Users`).set(t.auth);
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      await new Promise((r) => setImmediate(r));

      const request = lines.find((l) => (l['req'] as { id?: string } | undefined)?.id === 'req-abc-123');
      expect(request).toMatchObject({ level: 'info', tenant: t.slug, req: { method: 'POST', path: `${t.path}/Users` }, res: { statusCode: 201 } });
      const text = lines.map((l) => JSON.stringify(l)).join('\n');
      for (const secret of [t.token, t.token.slice(-43), 'Pa55word!', 'logged@example.com']) expect(text).not.toContain(secret);
    } finally {
      redis.disconnect();
    }
  });

  it('redact secrets wherever a record carries them', () => {
    const captured: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          captured.push(chunk.toString());
          done();
        },
      }),
    );
    log.info({ token: 'tok-1', connector: { secret: 's3', password: 'p4' }, req: { headers: { authorization: 'Bearer x' } } }, 'hello');
    expect(captured.join('')).not.toMatch(/tok-1|s3|p4|Bearer x/);
    expect(captured.join('')).toContain('[redacted]');
  });
});

describe('readiness', () => {
  it('reports Redis down with 503 while PostgreSQL is up', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      const http = supertest(createApp({ config: svc.config, pool: svc.runtime.pool, admin: svc.runtime, redis, log: createLogger('silent') }));
      const res = await http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', postgres: 'ok', redis: 'down' });
    } finally {
      redis.disconnect();
    }
  });
});
