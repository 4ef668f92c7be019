import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../helpers/cli.js';
import { type DownstreamApp, type DownstreamScim, startDownstreamScim } from '../helpers/downstream-scim.js';
import { eventually } from '../helpers/eventually.js';
import { grantsOf, idp } from '../helpers/provisioning-tenant.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * How the pipeline behaves when downstreams misbehave: a 429 pauses that connector only, 5xx is retried
 * with backoff and then parked for an operator, and revocations overtake a backlog of grants. The
 * downstreams are real SCIM servers that are made to answer 429, 503, or slowly.
 */
let svc: TestService;
let downstream: DownstreamScim;
let crmA: DownstreamApp;
let crmB: DownstreamApp;
let crmC: DownstreamApp;
/** Tenant with two connectors, `crm-a` and `crm-b`; tenant `other` with one, `crm`. */
let t: TestTenant;
let other: TestTenant;

const BACKOFF_BASE_MS = 300;

function policy(connectors: string[]): string {
  const packages = connectors.map((c) => `  ${c}-viewer:\n    entitlements:\n      ${c}: [group:Viewers]\n    maxDuration: P30D`).join('\n');
  return `version: 1\npackages:\n${packages}\nrules:\n  - when: { group: Partners }\n    grant: [${connectors.map((c) => `${c}-viewer`).join(', ')}]\n`;
}

async function setUpTenant(tenant: TestTenant, connectors: Record<string, DownstreamApp>): Promise<void> {
  for (const [name, app] of Object.entries(connectors)) {
    await svc.runtime.connectors.add(tenant.slug, { name, kind: 'scim', config: app.config }, 'operator:test');
  }
  await svc.runtime.policies.apply(tenant.slug, policy(Object.keys(connectors)), 'operator:test');
}

async function states(tenant: TestTenant, connector: string, userIds: string[]): Promise<string[]> {
  const rows = await svc.sql<{ state: string }>(
    `SELECT state FROM grants WHERE tenant_id = $1 AND connector = $2 AND user_id = ANY($3::uuid[]) AND state <> 'revoked' ORDER BY user_id`,
    [tenant.id, connector, userIds],
  );
  return rows.map((r) => r.state);
}

function lanyard(args: string[]): Promise<CliResult> {
  return runCli(args, svc.cliEnv());
}

beforeAll(async () => {
  downstream = await startDownstreamScim();
  [crmA, crmB, crmC] = await Promise.all([downstream.app('crm-a', ['Viewers']), downstream.app('crm-b', ['Viewers']), downstream.app('crm-c', ['Viewers'])]);
  svc = await startTestService(
    { JOB_ATTEMPTS: '3', JOB_BACKOFF_BASE: `${BACKOFF_BASE_MS}ms`, RATE_LIMIT_PAUSE: '1s', WORKER_GRANT_CONCURRENCY: '4', SWEEP_INTERVAL: '1s', SWEEP_GRACE: '2s' },
    { workers: true },
  );
  t = await svc.tenant();
  other = await svc.tenant();
  await setUpTenant(t, { 'crm-a': crmA, 'crm-b': crmB });
  await setUpTenant(other, { crm: crmC });
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await downstream?.close();
});

describe('a downstream answering 429', () => {
  it('pauses that connector for its Retry-After, while other connectors and tenants keep their pace', async () => {
    crmA.fault = { status: 429, retryAfter: '5', times: 1 };
    const scim = idp(svc, t);
    const users = await Promise.all([1, 2, 3].map((i) => scim.createUser(`rl${i}@globex.example`)));
    await scim.createGroup('Partners', users);
    const otherScim = idp(svc, other);
    const otherUsers = await Promise.all([1, 2].map((i) => otherScim.createUser(`rl${i}@umbrella.example`)));
    await otherScim.createGroup('Partners', otherUsers);

    // The unaffected connector and tenant finish inside the pause…
    await eventually(async () => {
      expect(await states(t, 'crm-b', users)).toEqual(['active', 'active', 'active']);
      expect(await states(other, 'crm', otherUsers)).toEqual(['active', 'active']);
    });
    const limitedAt = crmA.faulted[0]!;
    expect(Date.now()).toBeLessThan(limitedAt + 5_000);
    // …while the limited one waits it out: calls already in flight finish, no new call starts.
    expect(await states(t, 'crm-a', users)).toContain('provisioning');
    await eventually(async () => expect(await states(t, 'crm-a', users)).toEqual(['active', 'active', 'active']), { timeoutMs: 15_000 });
    // Calls decided before the 429 was seen may still arrive just after it (later on a loaded machine);
    // from a second on, the 5 s pause must be silent.
    const duringPause = crmA.requests.filter((at) => at > limitedAt + 1_000 && at < limitedAt + 4_900);
    expect(duringPause).toEqual([]);
    for (const id of users) expect(await crmA.user(id)).toEqual({ active: true, groups: ['Viewers'] });
  });
});

describe('a downstream failing with 5xx', () => {
  it('is retried with growing delays, then parked as failed; lanyard jobs failed shows it and jobs retry replays it', async () => {
    crmC.fault = { status: 503, times: 1_000 };
    crmC.requests.length = 0;
    const scim = idp(svc, other);
    const id = await scim.createUser('flaky@umbrella.example');
    const partners = (await svc.sql<{ id: string }>(`SELECT id FROM groups WHERE tenant_id = $1 AND display_name = 'Partners'`, [other.id]))[0]!.id;
    await scim.members(partners, 'add', [id]);

    const [parked] = await eventually(async () => {
      const grants = await grantsOf(svc, other, id);
      expect(grants.map((g) => g.state)).toEqual(['failed']);
      return grants;
    });
    expect(parked!.last_error).toMatch(/^unavailable: /);
    // Three attempts (JOB_ATTEMPTS), each later one after a longer wait: base, then twice the base, ±50 %.
    expect(crmC.requests).toHaveLength(3);
    const [first, second, third] = crmC.requests as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(BACKOFF_BASE_MS * 0.5);
    expect(third - second).toBeGreaterThanOrEqual(BACKOFF_BASE_MS * 2 * 0.5);

    const failed = await lanyard(['jobs', 'failed', other.slug, '--json']);
    expect(failed.code).toBe(0);
    const jobs = JSON.parse(failed.stdout) as { id: string; tenant: string; connector: string; userName: string; grants: number; error: string }[];
    expect(jobs).toEqual([expect.objectContaining({ tenant: other.slug, connector: 'crm', userName: 'flaky@umbrella.example', grants: 1, error: parked!.last_error })]);
    // Nothing else is parked anywhere.
    expect(JSON.parse((await lanyard(['jobs', 'failed', '--json'])).stdout)).toHaveLength(1);

    crmC.fault = undefined;
    const retried = await lanyard(['jobs', 'retry', jobs[0]!.id, '--json']);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual({ id: jobs[0]!.id, grants: 1 });
    await eventually(async () => expect((await grantsOf(svc, other, id)).map((g) => g.state)).toEqual(['active']));
    expect(await crmC.user(id)).toEqual({ active: true, groups: ['Viewers'] });
    expect(JSON.parse((await lanyard(['jobs', 'failed', other.slug, '--json'])).stdout)).toEqual([]);

    const unknown = await lanyard(['jobs', 'retry', jobs[0]!.id]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no failed job');
  });
});

describe('revocations', () => {
  it('are never queued behind a backlog of grants', async () => {
    const scim = idp(svc, t);
    const partners = (await svc.sql<{ id: string }>(`SELECT id FROM groups WHERE tenant_id = $1 AND display_name = 'Partners'`, [t.id]))[0]!.id;
    const leaver = await scim.createUser('leaver@globex.example');
    await scim.members(partners, 'add', [leaver]);
    await eventually(async () => expect(await states(t, 'crm-b', [leaver])).toEqual(['active']));

    // A slow downstream and a burst of 40 new partners: with 4 grant workers, hundreds of slow calls queue up.
    crmB.fault = { delayMs: 150 };
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => scim.createUser(`burst${i}@globex.example`)));
    await scim.members(partners, 'add', burst);
    await eventually(async () => expect((await svc.runtime.queues().depth()).grants).toBeGreaterThan(20));

    const deactivated = Date.now();
    await scim.setActive(leaver, false);
    await eventually(async () => expect(await crmB.user(leaver)).toEqual({ active: false, groups: [] }), { timeoutMs: 10_000 });
    const took = Date.now() - deactivated;
    // Revoked while most of the grants are still waiting.
    expect((await svc.runtime.queues().depth()).grants).toBeGreaterThan(10);
    expect(took).toBeLessThan(3_000);
    crmB.fault = undefined;
  });
});
