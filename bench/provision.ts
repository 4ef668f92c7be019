/**
 * Provisioning pipeline benchmark (`npm run bench:provision`). Prints one JSON document with each figure,
 * its target and whether it was met.
 *
 * The SCIM service runs as its own process (`lanyard serve`) and the workers as another (started as
 * `lanyard worker` starts them, see bench/lib/worker-process.ts), so each one's memory is measured alone;
 * both run the compiled build, as `npm start` does (the npm script builds first).
 * The memory connector's downstream (50 ms per call) lives in the worker process, which answers this
 * process's questions about it (duplicate effects, lost intents) over IPC.
 *
 * Phases: orchestration throughput with a no-op (0 ms) connector; deprovision latency on an idle system; an
 * Okta-style initial push (users, then groups, then membership PATCHes, 16 connections) with deprovisions
 * measured during it; the time until every resulting downstream operation is terminal.
 */
import { cpus } from 'node:os';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { openRuntime } from '../src/runtime.js';
import { databaseUrl, dropDatabase } from '../test/helpers/databases.js';
import { startServiceProcess } from '../test/helpers/service-process.js';
import { HttpClient, runLoad } from './lib/http-client.js';
import { RssSampler } from './lib/rss-sampler.js';
import { seedGroup, seedUsers } from './lib/seed.js';
import { summarise } from './lib/stats.js';
import { BenchWorker } from './lib/worker-client.js';

const USERS = Number(process.env['BENCH_USERS'] ?? 10_000);
const GROUPS = Number(process.env['BENCH_GROUPS'] ?? 1_000);
const GROUPS_PER_USER = 5;
/** Groups that lead to access: each user's first group is one of them. */
const ACCESS_GROUPS = 100;
const PACKAGES = 20;
const NOOP_USERS = Number(process.env['BENCH_NOOP_USERS'] ?? 5_000);
const DB = 'lanyard_bench_provision';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const log = (message: string) => process.stderr.write(`[bench:provision] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function policy(connector: string, packages: number, groupOf: (p: number) => string[]): string {
  const lines = ['version: 1', 'packages:'];
  for (let p = 0; p < packages; p++) lines.push(`  p${p}:`, '    entitlements:', `      ${connector}: [role:p${p}]`, '    maxDuration: P90D');
  lines.push('rules:');
  for (let p = 0; p < packages; p++) for (const g of groupOf(p)) lines.push(`  - when: { group: "${g}" }`, `    grant: [p${p}]`);
  return `${lines.join('\n')}\n`;
}

/** Deterministic spread of users over groups: first an access group, then four others. */
function groupsOf(i: number): number[] {
  const groups = [i % ACCESS_GROUPS];
  for (let k = 1; groups.length < GROUPS_PER_USER; k++) {
    const g = ACCESS_GROUPS + ((i * 7919 + k * 104_729) % (GROUPS - ACCESS_GROUPS));
    if (!groups.includes(g)) groups.push(g);
  }
  return groups;
}

async function main(): Promise<void> {
  await dropDatabase(DB);
  const prefix = `bench-${process.pid}`;
  const env = { DATABASE_URL: databaseUrl(DB), LANYARD_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), QUEUE_PREFIX: prefix };
  const config = loadConfig({ ...env, LOG_LEVEL: 'warn' });
  const quiet = pino({ level: 'warn' });
  const runtime = await openRuntime(config, quiet);
  const admin = new pg.Client({ connectionString: databaseUrl(DB) });
  await admin.connect();
  const results: Record<string, unknown> = { machine: { cpus: cpus().length, node: process.version }, users: USERS, groups: GROUPS };
  let service: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
  let worker: BenchWorker | undefined;
  try {
    await runtime.tenants.create({ slug: 'push' }, 'operator:bench');
    const noop = await runtime.tenants.create({ slug: 'noop' }, 'operator:bench');
    const token = (await runtime.tokens.issue('push', {}, 'operator:bench')).token;
    const entitlements = Array.from({ length: PACKAGES }, (_, p) => `role:p${p}`);
    await runtime.connectors.add('push', { name: 'downstream', kind: 'memory', config: { namespace: 'bench-push', entitlements, latencyMs: 50 } }, 'operator:bench');
    await runtime.connectors.add('noop', { name: 'downstream', kind: 'memory', config: { namespace: 'bench-noop', entitlements: ['role:a', 'role:b'], latencyMs: 0 } }, 'operator:bench');
    await runtime.policies.apply('push', policy('downstream', PACKAGES, (p) => Array.from({ length: ACCESS_GROUPS / PACKAGES }, (_, k) => `Team ${p + k * PACKAGES}`)), 'operator:bench');

    service = await startServiceProcess({ ...env, LOG_LEVEL: 'warn' }, 60_000, [], 'serve', 'built');
    worker = await BenchWorker.start({ ...env, LOG_LEVEL: 'warn' });
    const serviceRss = new RssSampler(service.child.pid!);
    const workerRss = new RssSampler(worker.child.pid!);
    serviceRss.start();
    workerRss.start();
    const client = new HttpClient(service.url, token, 16);
    const base = '/scim/v2/push';
    const post = async (path: string, body: unknown) => {
      const reply = await client.request('POST', `${base}${path}`, body);
      if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.body.slice(0, 200)}`);
      return (JSON.parse(reply.body) as { id: string }).id;
    };
    const ref = (userId: string) => `lanyard-${userId}`;

    // Orchestration overhead first, on a fresh system: a policy apply grants 2 entitlements to every user of
    // a seeded tenant through a connector that answers at once.
    log(`no-op connector: policy granting 2 entitlements to ${NOOP_USERS} users`);
    await seedUsers(admin, noop.id, 'noop', NOOP_USERS);
    await seedGroup(admin, noop.id, 'Everyone', NOOP_USERS);
    const noopStarted = performance.now();
    await runtime.policies.apply('noop', 'version: 1\npackages:\n  both:\n    entitlements:\n      downstream: [role:a, role:b]\n    maxDuration: P30D\nrules:\n  - when: { group: Everyone }\n    grant: [both]\n', 'operator:bench');
    const noopWait = await worker.ask({ type: 'wait-all-granted', namespace: 'bench-noop', accounts: NOOP_USERS, entitlements: 2, timeoutMs: 600_000 });
    const noopDone = noopWait.ok;
    const noopMs = performance.now() - noopStarted;
    const noopOps = noopWait.operations;
    results['noopThroughput'] = {
      operations: noopOps,
      seconds: Math.round(noopMs / 100) / 10,
      opsPerSecond: Math.round(noopOps / (noopMs / 1000)),
      completed: noopDone,
      target: { opsPerSecond: 500 },
      met: noopDone && noopOps / (noopMs / 1000) >= 500,
    };


    // Users kept aside to be deactivated: half while the system is idle, half during the push.
    const team0 = await post('/Groups', { schemas: [GROUP], displayName: 'Team 0' });
    const leavers: string[] = [];
    for (let i = 0; i < 40; i++) leavers.push(await post('/Users', { schemas: [USER], userName: `leaver${i}@bench.example`, active: true }));
    await client.request('PATCH', `${base}/Groups/${team0}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: leavers.map((value) => ({ value })) }] });
    const provisioned = await worker.ask({ type: 'wait-granted', namespace: 'bench-push', refs: leavers.map(ref), entitlement: 'role:p0', timeoutMs: 60_000 });
    if (!provisioned.ok) throw new Error('leavers were never provisioned');
    const deprovision = async (id: string): Promise<number> => {
      const reply = await client.request('PATCH', `${base}/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
      if (reply.status >= 300) throw new Error(`deactivate: ${reply.status}`);
      const acked = performance.now();
      const retired = await worker!.ask({ type: 'wait-retired', namespace: 'bench-push', ref: ref(id), timeoutMs: 120_000 });
      if (!retired.ok) throw new Error(`user ${id} was not deprovisioned within 120 s`);
      return performance.now() - acked;
    };

    log('deprovision latency, idle');
    const idle: number[] = [];
    for (const id of leavers.slice(0, 20)) idle.push(await deprovision(id));
    const idleSummary = summarise(idle);
    results['deprovisionIdle'] = { ...idleSummary, target: { p95: 2_000 }, met: idleSummary.p95 <= 2_000 };

    log(`push: ${USERS} users, ${GROUPS} groups, ${USERS * GROUPS_PER_USER} memberships at 16 connections`);
    const pushStarted = performance.now();
    const during: number[] = [];
    let pushing = true;
    const deprovisioning = (async () => {
      for (const id of leavers.slice(20)) {
        if (!pushing) break;
        await sleep(3_000);
        during.push(await deprovision(id));
      }
    })();
    const userIds: string[] = new Array(USERS);
    const users = await runLoad({
      concurrency: 16,
      total: USERS,
      work: async (i) => {
        const reply = await client.request('POST', `${base}/Users`, { schemas: [USER], userName: `user${i}@bench.example`, externalId: `okta-${i}`, name: { givenName: 'User', familyName: String(i) }, emails: [{ primary: true, value: `user${i}@bench.example`, type: 'work' }], active: true });
        if (reply.status === 201) userIds[i] = (JSON.parse(reply.body) as { id: string }).id;
        return reply;
      },
    });
    const groupIds: string[] = new Array(GROUPS);
    const groups = await runLoad({
      concurrency: 16,
      total: GROUPS,
      work: async (g) => {
        if (g === 0) {
          groupIds[0] = team0;
          return { status: 201, body: '', ms: 0 };
        }
        const reply = await client.request('POST', `${base}/Groups`, { schemas: [GROUP], displayName: `Team ${g}`, externalId: `okta-group-${g}`, members: [] });
        if (reply.status === 201) groupIds[g] = (JSON.parse(reply.body) as { id: string }).id;
        return reply;
      },
    });
    const members: string[][] = Array.from({ length: GROUPS }, () => []);
    userIds.forEach((id, i) => groupsOf(i).forEach((g) => members[g]!.push(id)));
    const patches = await runLoad({
      concurrency: 16,
      total: GROUPS,
      work: (g) => client.request('PATCH', `${base}/Groups/${groupIds[g]}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: members[g]!.map((value) => ({ value })) }] }),
    });
    const ingestMs = performance.now() - pushStarted;
    members.length = 0;
    results['ingest'] = {
      seconds: Math.round(ingestMs / 100) / 10,
      requests: { users: USERS, groups: GROUPS, patches: GROUPS },
      errors: users.errors + groups.errors + patches.errors,
      target: { seconds: 180 },
      met: ingestMs <= 180_000 && users.errors + groups.errors + patches.errors === 0,
    };
    log(`ingest done in ${Math.round(ingestMs / 1000)} s`);

    // Terminal: nothing marked, nothing in flight, every user holding exactly its packages downstream.
    const expected = (i: number) => [...new Set(groupsOf(i).filter((g) => g < ACCESS_GROUPS).map((g) => `role:p${g % PACKAGES}`))];
    let downstream = await worker.ask({ type: 'expect', namespace: 'bench-push', accounts: userIds.map((id, i) => [ref(id), expected(i)]) });
    const settled = async () => {
      const { rows } = await admin.query<{ marked: number; flying: number }>(
        `SELECT (SELECT count(*) FROM reconcile_outbox)::int AS marked, (SELECT count(*) FROM grants WHERE state IN ('provisioning', 'revoking'))::int AS flying`,
      );
      return rows[0]!;
    };
    let inFlight = await settled();
    const deadline = Date.now() + 600_000;
    let terminal = false;
    while (Date.now() < deadline) {
      downstream = await worker.ask({ type: 'status', namespace: 'bench-push' });
      const downstreamDone = downstream.settled;
      if (downstreamDone) {
        inFlight = await settled();
        if (inFlight.marked === 0 && inFlight.flying === 0) {
          terminal = true;
          break;
        }
      }
      await sleep(downstreamDone ? 100 : 250);
    }
    const terminalMs = performance.now() - pushStarted;
    pushing = false;
    await deprovisioning;
    downstream = await worker.ask({ type: 'status', namespace: 'bench-push' });
    const { lost, duplicateEffects: duplicates, operations: downstreamOps } = downstream;
    results['terminal'] = {
      seconds: Math.round(terminalMs / 100) / 10,
      reached: terminal,
      downstreamOperations: downstreamOps,
      stillMarked: inFlight.marked,
      stillInFlight: inFlight.flying,
      duplicateEffects: duplicates,
      lostIntents: lost,
      target: { seconds: 300, duplicateEffects: 0, lostIntents: 0 },
      met: terminal && terminalMs <= 300_000 && duplicates === 0 && lost === 0,
    };
    const duringSummary = summarise(during);
    results['deprovisionDuringPush'] = { ...duringSummary, target: { p95: 10_000 }, met: during.length > 0 && duringSummary.p95 <= 10_000 };
    log(`terminal after ${Math.round(terminalMs / 1000)} s`);

    serviceRss.stop();
    workerRss.stop();
    const mb = (b: number) => Math.round(b / 1024 / 1024);
    results['rssMB'] = { service: mb(serviceRss.maxBytes), worker: mb(workerRss.maxBytes), target: 256, met: mb(serviceRss.maxBytes) <= 256 && mb(workerRss.maxBytes) <= 256 };
    client.close();
  } finally {
    await worker?.stop().catch(() => {});
    await service?.stop().catch(() => {});
    await admin.end().catch(() => {});
    // The queues' keys go with the database: nothing of this run is left in Redis.
    await runtime.queues().connection.eval(`for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key) end return 1`, 0, `${prefix}:*`).catch(() => {});
    await runtime.close().catch(() => {});
    await dropDatabase(DB).catch(() => {});
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
