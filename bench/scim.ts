/**
 * SCIM endpoint benchmark (`npm run bench:scim`). Prints one JSON document with each figure, its target and
 * whether it was met. One tenant holds 100,000 users and a 50,000-member group; a second tenant has its own
 * users and receives a trickle of requests throughout. The service runs as its own process, as deployed.
 */
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { openRuntime } from '../src/runtime.js';
import { databaseUrl, dropDatabase, PG_SERVER_URL } from '../test/helpers/databases.js';
import { startServiceProcess } from '../test/helpers/service-process.js';
import { HttpClient, runLoad } from './lib/http-client.js';
import { RssSampler } from './lib/rss-sampler.js';
import { seedGroup, seedUsers, userIds } from './lib/seed.js';
import { summarise } from './lib/stats.js';

const USERS = Number(process.env['BENCH_USERS'] ?? 100_000);
const BIG_GROUP = Number(process.env['BENCH_GROUP_MEMBERS'] ?? 50_000);
const POST_SECONDS = Number(process.env['BENCH_POST_SECONDS'] ?? 20);
const DB = 'lanyard_bench_scim';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const log = (message: string) => process.stderr.write(`[bench:scim] ${message}\n`);

async function main(): Promise<void> {
  await dropDatabase(DB);
  const env = { DATABASE_URL: databaseUrl(DB), LANYARD_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
  const runtime = await openRuntime(loadConfig({ ...env, LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  const admin = new pg.Client({ connectionString: databaseUrl(DB) });
  await admin.connect();
  const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, postgres: PG_SERVER_URL.replace(/\/\/[^@]*@/, '//') };
  let service: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
  try {
    log(`seeding ${USERS} users and a ${BIG_GROUP}-member group`);
    const a = await runtime.tenants.create({ slug: 'bench-a' }, 'operator:bench');
    const b = await runtime.tenants.create({ slug: 'bench-b' }, 'operator:bench');
    const tokenA = (await runtime.tokens.issue('bench-a', {}, 'operator:bench')).token;
    const tokenB = (await runtime.tokens.issue('bench-b', {}, 'operator:bench')).token;
    await seedUsers(admin, a.id, 'user', USERS);
    await seedUsers(admin, b.id, 'other', 2_000);
    const bigGroup = await seedGroup(admin, a.id, 'Everyone (big)', BIG_GROUP);
    const smallGroup = await seedGroup(admin, a.id, 'Ten people', 10);
    // Users well past both groups' members, so every add is a real change.
    const pool = await userIds(admin, a.id, BIG_GROUP + 1_000, 4_000);
    await admin.query('VACUUM ANALYZE users, groups, group_members');
    await runtime.close();

    service = await startServiceProcess({ ...env, LOG_LEVEL: 'info' }, 60_000);
    const rss = new RssSampler(service.child.pid!);
    rss.start();
    const clientA = new HttpClient(service.url, tokenA, 32);
    const clientB = new HttpClient(service.url, tokenB, 2);
    const base = '/scim/v2/bench-a';

    // The second tenant stays busy (a request every 20 ms) while tenant A is measured.
    let trickle = true;
    const trickling = (async () => {
      let i = 0;
      while (trickle) {
        await clientB.request('GET', `/scim/v2/bench-b/Users?filter=${encodeURIComponent(`userName eq "other${(i++ % 2000) + 1}@bench.example"`)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    log('warming up');
    await runLoad({ concurrency: 4, total: 400, work: (i) => clientA.request('GET', `${base}/Users?filter=${encodeURIComponent(`userName eq "user${(i * 7919) % USERS + 1}@bench.example"`)}`) });

    log('GET /Users?filter=userName eq …');
    const lookups = await runLoad({
      concurrency: 1,
      total: 2_000,
      work: (i) => clientA.request('GET', `${base}/Users?filter=${encodeURIComponent(`userName eq "USER${(i * 104_729) % USERS + 1}@bench.example"`)}&startIndex=1&count=100`),
    });
    const lookup = summarise(lookups.latencies);
    results['lookupByUserName'] = { ...lookup, errors: lookups.errors, target: { p50: 5, p99: 25 }, met: lookup.p50 <= 5 && lookup.p99 <= 25 && lookups.errors === 0 };

    log('GET /Users?startIndex=…&count=100');
    const pages = await runLoad({
      concurrency: 1,
      total: 300,
      work: (i) => clientA.request('GET', `${base}/Users?startIndex=${((i * 7_919) % (USERS - 100)) + 1}&count=100`),
    });
    const paging = summarise(pages.latencies);
    results['pageAnywhere'] = { ...paging, errors: pages.errors, target: { p95: 60 }, met: paging.p95 <= 60 && pages.errors === 0 };
    trickle = false;
    await trickling;

    log('group PATCH, 100 member changes, 50,000-member group vs 10-member group');
    const patchTimes = { big: [] as number[], small: [] as number[] };
    let errors = 0;
    for (let round = 0; round < 30; round++) {
      for (const [name, group] of [['big', bigGroup], ['small', smallGroup]] as const) {
        const batch = pool.slice((round % 20) * 100, (round % 20) * 100 + 100);
        const add = await clientA.request('PATCH', `${base}/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: batch.map((value) => ({ value })) }] });
        const remove = await clientA.request('PATCH', `${base}/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: batch.map((value) => ({ value })) }] });
        for (const reply of [add, remove]) {
          if (reply.status !== 204) errors++;
          patchTimes[name].push(reply.ms);
        }
      }
    }
    const big = summarise(patchTimes.big);
    const small = summarise(patchTimes.small);
    const ratio = Math.round((big.p50 / small.p50) * 100) / 100;
    results['groupPatch100'] = {
      bigGroup: big,
      smallGroup: small,
      ratioP50: ratio,
      errors,
      target: { p95: 200, ratio: 2 },
      met: big.p95 <= 200 && small.p95 <= 200 && ratio <= 2 && errors === 0,
    };

    log('group PATCH, 1,000 member changes');
    const thousand: number[] = [];
    let thousandErrors = 0;
    for (let round = 0; round < 4; round++) {
      const batch = pool.slice(round * 1_000, round * 1_000 + 1_000).map((value) => ({ value }));
      for (const op of ['add', 'remove']) {
        const reply = await clientA.request('PATCH', `${base}/Groups/${bigGroup}`, { schemas: [PATCH], Operations: [{ op, path: 'members', value: batch }] });
        if (reply.status !== 204) thousandErrors++;
        thousand.push(reply.ms);
      }
    }
    const th = summarise(thousand);
    results['groupPatch1000'] = { ...th, errors: thousandErrors, target: { max: 3_000 }, met: th.max <= 3_000 && thousandErrors === 0 };

    log(`POST /Users at 16 concurrent connections for ${POST_SECONDS} s`);
    const posts = await runLoad({
      concurrency: 16,
      durationMs: POST_SECONDS * 1_000,
      work: (i) =>
        clientA.request('POST', `${base}/Users`, {
          schemas: [USER],
          userName: `load${i}@bench.example`,
          name: { givenName: 'Load', familyName: `Tester${i}` },
          emails: [{ value: `load${i}@bench.example`, type: 'work', primary: true }],
          active: true,
        }),
    });
    const post = summarise(posts.latencies);
    const rps = Math.round((posts.latencies.length / posts.elapsedMs) * 1_000);
    results['createUsers'] = { ...post, requestsPerSecond: rps, errors: posts.errors, statuses: posts.statuses, target: { rps: 300, p99: 250, errors: 0 }, met: rps >= 300 && post.p99 <= 250 && posts.errors === 0 };

    rss.stop();
    const rssMb = Math.round(rss.maxBytes / 1024 / 1024);
    results['serviceRss'] = { maxMb: rssMb, target: { maxMb: 256 }, met: rssMb <= 256 };
    clientA.close();
    clientB.close();
    results['allTargetsMet'] = Object.values(results).every((r) => typeof r !== 'object' || r === null || !('met' in r) || (r as { met: boolean }).met);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await service?.stop();
    await admin.end();
    if (!process.env['BENCH_KEEP_DB']) await dropDatabase(DB);
  }
}

await main();
