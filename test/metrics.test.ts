import { Writable } from 'node:stream';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMetrics } from '../src/metrics/registry.js';
import { createStatusRegistry } from '../src/metrics/status-gauges.js';
import { QUEUE_NAMES } from '../src/provisioning/jobs.js';
import { type RunningWorkers, startWorkers } from '../src/provisioning/workers.js';
import { runCli } from './helpers/cli.js';
import { databaseUrl, dropDatabase, randomName } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { idp, startStaffTenant } from './helpers/provisioning-tenant.js';
import { startServiceProcess } from './helpers/service-process.js';
import { startTestService, TEST_MASTER_KEY, type TestService, type TestTenant } from './helpers/test-service.js';

/**
 * `/metrics` of the real app, with the workers recording into the same process registry, as `lanyard
 * start` runs them. Counters are process-wide, so each test works on tenants of its own.
 */
let svc: TestService;
let workers: RunningWorkers;
/** A scraper's credential: metrics name every tenant, so an auditor key (read-only, all tenants). */
let scraper: { Authorization: string };
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  svc = await startTestService();
  scraper = { Authorization: `Bearer ${(await svc.runtime.operatorKeys.create({ name: 'prometheus', role: 'auditor' }, 'operator:test')).key}` };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  workers = await startWorkers({
    pool: svc.runtime.pool,
    queues: svc.runtime.queues(),
    redisUrl: svc.config.redisUrl,
    masterKey: svc.config.masterKey,
    config: svc.config.jobs,
    log: pino({ level: 'warn' }, sink),
    metrics: processMetrics().jobs(),
  });
});

afterAll(async () => {
  await workers?.close();
  await svc?.close();
});

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one series with exactly these labels, or undefined. */
function value(samples: Sample[], name: string, labels: Labels): number | undefined {
  const keys = Object.keys(labels);
  return samples.find((s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]))?.value;
}

async function scrape(): Promise<Sample[]> {
  const res = await svc.http.get('/metrics').set(scraper);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(res.text);
}

async function provisionedTenant(): Promise<{ t: TestTenant; userId: string }> {
  const t = await svc.tenant();
  const { userId } = await startStaffTenant(svc, t, `pat@${t.slug}.example`);
  return { t, userId };
}

describe('/metrics', () => {
  it('counts SCIM requests by authenticated tenant, method and status code, and times them by tenant and method', async () => {
    const a = await svc.tenant();
    const b = await svc.tenant();
    const scimA = idp(svc, a);
    await scimA.createUser('ann@a.example');
    await scimA.createUser('bob@a.example');
    expect((await svc.http.get(`${a.path}/Users`).set(a.auth)).status).toBe(200);
    expect((await svc.http.get(`${a.path}/Users/00000000-0000-4000-8000-000000000000`).set(a.auth)).status).toBe(404);
    await idp(svc, b).createUser('cy@b.example');
    // The slug in the URL of a request that never authenticates is the caller's text: it labels nothing.
    expect((await svc.http.get('/scim/v2/made-up-tenant/Users').set({ Authorization: 'Bearer nope' })).status).toBe(401);

    const samples = await scrape();
    expect(value(samples, 'lanyard_scim_requests_total', { tenant: a.slug, method: 'POST', status: '201' })).toBe(2);
    expect(value(samples, 'lanyard_scim_requests_total', { tenant: a.slug, method: 'GET', status: '200' })).toBe(1);
    expect(value(samples, 'lanyard_scim_requests_total', { tenant: a.slug, method: 'GET', status: '404' })).toBe(1);
    expect(value(samples, 'lanyard_scim_requests_total', { tenant: b.slug, method: 'POST', status: '201' })).toBe(1);
    expect(value(samples, 'lanyard_scim_requests_total', { tenant: '', method: 'GET', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => Object.values(s.labels).includes('made-up-tenant'))).toBe(false);

    expect(value(samples, 'lanyard_scim_request_duration_seconds_count', { tenant: a.slug, method: 'POST' })).toBe(2);
    expect(value(samples, 'lanyard_scim_request_duration_seconds_count', { tenant: a.slug, method: 'GET' })).toBe(2);
    expect(value(samples, 'lanyard_scim_request_duration_seconds_bucket', { tenant: a.slug, method: 'POST', le: '+Inf' })).toBe(2);
    expect(value(samples, 'lanyard_scim_request_duration_seconds_sum', { tenant: b.slug, method: 'POST' })).toBeGreaterThan(0);
    // Nothing SCIM-specific is labelled by anything but tenant, method, status (and le).
    for (const s of samples.filter((x) => x.name.startsWith('lanyard_scim_'))) {
      expect(Object.keys(s.labels).every((k) => ['tenant', 'method', 'status', 'le'].includes(k))).toBe(true);
    }
  });

  it('counts jobs by queue and outcome, and shows grants by state, pending approvals and parked work per tenant', async () => {
    const { t } = await provisionedTenant();
    await eventually(
      async () => {
        const samples = await scrape();
        expect(value(samples, 'lanyard_jobs_total', { queue: QUEUE_NAMES.reconcile, outcome: 'completed' })).toBeGreaterThanOrEqual(1);
        expect(value(samples, 'lanyard_jobs_total', { queue: QUEUE_NAMES.grants, outcome: 'completed' })).toBeGreaterThanOrEqual(1);
        // role:missing is unknown downstream (not_found): given up on at once and parked for an operator.
        expect(value(samples, 'lanyard_jobs_total', { queue: QUEUE_NAMES.grants, outcome: 'parked' })).toBeGreaterThanOrEqual(1);
        expect(value(samples, 'lanyard_jobs_total', { queue: QUEUE_NAMES.revocations, outcome: 'failed' })).toBe(0);
        expect(value(samples, 'lanyard_tenant_grants', { tenant: t.slug, state: 'active' })).toBe(1);
        expect(value(samples, 'lanyard_tenant_grants', { tenant: t.slug, state: 'failed' })).toBe(1);
        expect(value(samples, 'lanyard_tenant_grants', { tenant: t.slug, state: 'provisioning' })).toBe(0);
        expect(value(samples, 'lanyard_tenant_grants', { tenant: t.slug, state: 'revoked' })).toBe(0);
        expect(value(samples, 'lanyard_tenant_pending_approvals', { tenant: t.slug })).toBe(1);
        expect(value(samples, 'lanyard_tenant_parked_jobs', { tenant: t.slug })).toBe(1);
        expect(value(samples, 'lanyard_tenant_pending_holds', { tenant: t.slug })).toBe(0);
        expect(value(samples, 'lanyard_tenant_users', { tenant: t.slug })).toBe(1);
        expect(value(samples, 'lanyard_tenant_info', { tenant: t.slug, status: 'active' })).toBe(1);
        for (const queue of Object.values(QUEUE_NAMES)) expect(value(samples, 'lanyard_queue_depth', { queue })).toBeGreaterThanOrEqual(0);
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
  });

  it("shows the time since each tenant's last SCIM request, none for a tenant never reached, and flags tokens expiring within 14 days", async () => {
    const pushed = await svc.tenant();
    const quiet = await svc.tenant();
    const expiring = await svc.tenant();
    await svc.runtime.tokens.issue(expiring.slug, { ttlMs: 3 * 24 * 3600_000 }, 'operator:test');
    expect((await svc.http.get(`${pushed.path}/Users`).set(pushed.auth)).status).toBe(200);
    // An hour-old push, as the database would have it.
    await svc.sql("UPDATE scim_tokens SET last_used_at = now() - interval '1 hour' WHERE tenant_id = $1", [expiring.id]);

    await eventually(
      async () => {
        const samples = await scrape();
        const age = (t: TestTenant) => value(samples, 'lanyard_tenant_last_scim_request_age_seconds', { tenant: t.slug });
        expect(age(pushed)).toBeGreaterThanOrEqual(0);
        expect(age(pushed)).toBeLessThan(60);
        expect(age(expiring)).toBeGreaterThanOrEqual(3600);
        expect(age(expiring)).toBeLessThan(3700);
        expect(age(quiet)).toBeUndefined();
        expect(value(samples, 'lanyard_tenant_scim_tokens_expiring', { tenant: expiring.slug })).toBe(1);
        expect(value(samples, 'lanyard_tenant_scim_tokens_active', { tenant: expiring.slug })).toBe(2);
        expect(value(samples, 'lanyard_tenant_scim_tokens_expiring', { tenant: pushed.slug })).toBe(0);
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
  });

  it('reads PostgreSQL and Redis once per cache period, however often and however concurrently it is scraped', async () => {
    let reads = 0;
    let depths = 0;
    const pool = { query: (...args: unknown[]) => ((reads += 1), (svc.runtime.pool.query as (...a: unknown[]) => unknown)(...args)) } as unknown as pg.Pool;
    const queueDepth = async () => ((depths += 1), { reconcile: 0 });
    const registry = createStatusRegistry({ pool, queueDepth, log: pino({ level: 'silent' }), cacheMs: 300 });
    const pages = await Promise.all(Array.from({ length: 10 }, () => registry.metrics()));
    expect(pages.every((p) => p.includes('lanyard_queue_depth{queue="reconcile"} 0'))).toBe(true);
    expect({ reads, depths }).toEqual({ reads: 1, depths: 1 });
    await registry.metrics();
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    await registry.metrics();
    expect({ reads, depths }).toEqual({ reads: 2, depths: 2 });
  });

  it('leaves out what a failed source feeds and counts the failure, serving the rest', async () => {
    const broken = { query: async () => Promise.reject(new Error('connection refused')) } as unknown as pg.Pool;
    const registry = createStatusRegistry({ pool: broken, queueDepth: async () => ({ grants: 3 }), log: pino({ level: 'silent' }), cacheMs: 60_000 });
    const samples = parse(await registry.metrics());
    expect(value(samples, 'lanyard_queue_depth', { queue: 'grants' })).toBe(3);
    expect(value(samples, 'lanyard_status_read_failures_total', { source: 'postgres' })).toBe(1);
    expect(value(samples, 'lanyard_status_read_failures_total', { source: 'redis' })).toBe(0);
    expect(samples.some((s) => s.name.startsWith('lanyard_tenant_'))).toBe(false);
  });

  it('warns in the logs, once a day, about each tenant whose tokens expire within 14 days', async () => {
    const soon = await svc.tenant();
    const fine = await svc.tenant();
    await svc.runtime.tokens.issue(soon.slug, { ttlMs: 5 * 24 * 3600_000 }, 'operator:test');
    logLines.length = 0;
    const result = await workers.schedules.runNow('token-expiry-warning');
    expect(result['tenants']).toBeGreaterThanOrEqual(1);
    const warnings = logLines.filter((l) => l['msg'] && String(l['msg']).includes('expire within 14 days'));
    expect(warnings.find((w) => w['tenant'] === soon.slug)).toMatchObject({ level: 40, expiring: 1 });
    expect(warnings.some((w) => w['tenant'] === fine.slug)).toBe(false);
  });
});

describe('/metrics of the service processes', () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropDatabase(name);
  });

  it('serves the job counters in the all-in-one process (lanyard start) and not in lanyard serve', async () => {
    const name = randomName('lanyard_metrics');
    created.push(name);
    const env = { DATABASE_URL: databaseUrl(name), LANYARD_MASTER_KEY: TEST_MASTER_KEY };
    // One after the other: both migrate the same new database at start.
    const start = await startServiceProcess(env, 30_000, [], 'start');
    const keyMade = await runCli(['operator', 'key', 'create', '--name', 'prometheus', '--role', 'auditor', '--json'], env);
    const headers = { Authorization: `Bearer ${(JSON.parse(keyMade.stdout) as { key: string }).key}` };
    try {
      const text = await eventually(async () => {
        const body = await (await fetch(`${start.url}/metrics`, { headers })).text();
        expect(body).toContain('lanyard_jobs_total{queue="reconcile",outcome="completed"} 0');
        return body;
      });
      expect(text).toContain('# TYPE lanyard_scim_requests_total counter');
      expect(text).toContain('lanyard_queue_depth{queue="grants"}');
    } finally {
      await start.stop();
    }
    const serve = await startServiceProcess(env, 30_000, [], 'serve');
    try {
      const text = await (await fetch(`${serve.url}/metrics`, { headers })).text();
      expect(text).toContain('# TYPE lanyard_scim_requests_total counter');
      expect(text).not.toContain('lanyard_jobs_total');
    } finally {
      await serve.stop();
    }
  }, 90_000);
});
