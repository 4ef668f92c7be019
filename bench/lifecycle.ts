/**
 * Lifecycle benchmark (`npm run bench:lifecycle`). Prints one JSON document with each figure, its target
 * and whether it was met.
 *
 * A tenant holds 100,000 active grants (25,000 users × 4 entitlements of one memory connector answering
 * at once), seeded straight into PostgreSQL as the pipeline would have left them, and the same accounts and
 * entitlements in the connector's downstream. 10,000 grants then reach their end, one each for 10,000
 * users: the most reconciles 10,000 due grants can cost, and every user keeps three entitlements, so the
 * accounts stay wanted and the only changes allowed are the 10,000 revocations. The expiry sweep runs
 * once, as its BullMQ job runs it (`lifecycle-due`, asked of the worker process), and is timed until every
 * due grant has left `active` (its revocation decided and queued), then until every one is `revoked` and
 * gone downstream. The workers run as their own process from the build (the npm script builds first), as
 * `lanyard worker` runs them, so their peak memory is theirs alone; it includes the memory downstream.
 *
 * Last, the audit verification of a 1,000,000-event chain (bench/lib/audit-verify.ts), on its own database
 * once the workers have stopped. BENCH_LIFECYCLE_USERS and BENCH_AUDIT_EVENTS scale the two down for a
 * quick try; the targets are for the sizes above.
 */
import { cpus } from 'node:os';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { openRuntime } from '../src/runtime.js';
import { databaseUrl, dropDatabase } from '../test/helpers/databases.js';
import { benchAuditVerify } from './lib/audit-verify.js';
import { RssSampler } from './lib/rss-sampler.js';
import { seedGroup, seedUsers } from './lib/seed.js';
import { BenchWorker } from './lib/worker-client.js';

const USERS = Number(process.env['BENCH_LIFECYCLE_USERS'] ?? 25_000);
const ENTITLEMENTS = ['role:e0', 'role:e1', 'role:e2', 'role:e3'];
/** Two users in five have one grant due: 10,000 of 25,000. */
const DUE_EVERY = { of: 5, first: 2 };
const AUDIT_EVENTS = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 1_000_000);
const TARGET = { queuedSeconds: 30, revokedSeconds: 180 };
/** How long the sweep's work may take before the benchmark gives up on it (past the target, to measure a miss). */
const GIVE_UP_MS = 600_000;
const POLL_MS = 100;
const SAMPLE_MS = 5_000;
const DB = 'lanyard_bench_lifecycle';
const SLUG = 'expiry';
const CONNECTOR = 'downstream';
const NAMESPACE = 'bench-expiry';
const RULE = 'everyone holds the standard package';
/** The package's maximum duration, in hours: seeded grants end exactly where the policy would end them. */
const MAX_HOURS = 365 * 24;

const log = (message: string) => process.stderr.write(`[bench:lifecycle] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

const POLICY = `version: 1
packages:
  standard:
    entitlements:
      ${CONNECTOR}: [${ENTITLEMENTS.join(', ')}]
    maxDuration: P${MAX_HOURS / 24}D
rules:
  - name: ${RULE}
    when: { group: Everyone }
    grant: [standard]
`;

/**
 * The grants, accounts and memberships a year of the pipeline would have left: every user joined the
 * group, then was granted the package a day ago (so each grant ends at its package's maximum duration from
 * then) and has an active account downstream.
 */
async function seedAccess(admin: pg.Client, tenantId: string, policyVersion: number): Promise<void> {
  await seedUsers(admin, tenantId, SLUG, USERS);
  const groupId = await seedGroup(admin, tenantId, 'Everyone', USERS);
  const { rows } = await admin.query<{ at: Date }>(`SELECT date_trunc('second', now()) - interval '1 day' AS at`);
  const grantedAt = rows[0]!.at;
  // Joining must precede the grants: a membership newer than an expiry would renew the access.
  await admin.query(`UPDATE group_members SET added_at = $2::timestamptz - interval '1 hour' WHERE tenant_id = $1`, [tenantId, grantedAt]);
  await admin.query(
    `INSERT INTO grants (tenant_id, user_id, user_name, connector, entitlement, state, reasons, policy_version,
                         starts_at, ends_at, end_bound, created_at, updated_at)
     SELECT u.tenant_id, u.id, u.user_name, $2, e, 'active',
            jsonb_build_array(jsonb_build_object('rule', 0, 'ruleName', $3::text, 'package', 'standard',
                                                 'group', jsonb_build_object('id', $4::uuid, 'displayName', 'Everyone'))),
            $5, $6, $6::timestamptz + $7 * interval '1 hour', 'package', $6, $6
       FROM users u CROSS JOIN unnest($8::text[]) AS e
      WHERE u.tenant_id = $1`,
    [tenantId, CONNECTOR, RULE, groupId, policyVersion, grantedAt, MAX_HOURS, ENTITLEMENTS],
  );
  await admin.query(
    `INSERT INTO connector_accounts (tenant_id, connector, user_id, user_name, ref, state, desired, created_at, updated_at)
     SELECT tenant_id, $2, id, user_name, 'lanyard-' || id, 'active', 'active', $3, $3 FROM users WHERE tenant_id = $1`,
    [tenantId, CONNECTOR, grantedAt],
  );
  for (const table of ['users', 'group_members', 'grants', 'connector_accounts']) await admin.query(`VACUUM ANALYZE ${table}`);
}

/**
 * One grant of two users in five reaches its end: as if it had been granted a year ago, it ended a
 * minute ago. The entitlement rotates, so every entitlement has its share.
 */
async function makeDue(admin: pg.Client, tenantId: string): Promise<number> {
  const { rowCount } = await admin.query(
    `UPDATE grants g
        SET ends_at = now() - interval '1 minute',
            created_at = now() - interval '1 minute' - $4 * interval '1 hour',
            starts_at = now() - interval '1 minute' - $4 * interval '1 hour'
       FROM users u
      WHERE u.tenant_id = $1 AND g.tenant_id = u.tenant_id AND g.user_id = u.id
        AND u.seq % $2 < $3 AND g.entitlement = 'role:e' || (u.seq % 4)`,
    [tenantId, DUE_EVERY.of, DUE_EVERY.first, MAX_HOURS],
  );
  // Time passing leaves no dead rows behind; this update does, so they go before the sweep meets them.
  await admin.query('VACUUM ANALYZE grants');
  return rowCount ?? 0;
}

interface Progress {
  /** Users marked and not yet reconciled. */
  marked: number;
  /** Due grants still live: their revocation is not decided yet. */
  live: number;
  /** Grants whose downstream work is pending (`provisioning`, `revoking`). */
  inFlight: number;
}

/** Cheap enough to ask every 100 ms: each count is served by a small table or a partial index. */
async function progress(admin: pg.Client): Promise<Progress> {
  const { rows } = await admin.query<Progress>(
    `SELECT (SELECT count(*) FROM reconcile_outbox)::int AS marked,
            (SELECT count(*) FROM grants WHERE ends_at <= now() AND state IN ('provisioning', 'active', 'failed', 'held'))::int AS live,
            (SELECT count(*) FROM grants WHERE state IN ('provisioning', 'revoking'))::int AS "inFlight"`,
  );
  return rows[0]!;
}

async function main(): Promise<void> {
  await dropDatabase(DB);
  const prefix = `bench-${process.pid}`;
  const env = { DATABASE_URL: databaseUrl(DB), LANYARD_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), QUEUE_PREFIX: prefix };
  const runtime = await openRuntime(loadConfig({ ...env, LOG_LEVEL: 'warn' }), pino({ level: 'warn' }));
  const admin = new pg.Client({ connectionString: databaseUrl(DB) });
  await admin.connect();
  const results: Record<string, unknown> = { machine: { cpus: cpus().length, node: process.version } };
  let worker: BenchWorker | undefined;
  try {
    // The policy comes first, while the tenant has no users: applying it marks nobody.
    const tenant = await runtime.tenants.create({ slug: SLUG }, 'operator:bench');
    await runtime.connectors.add(SLUG, { name: CONNECTOR, kind: 'memory', config: { namespace: NAMESPACE, entitlements: ENTITLEMENTS, latencyMs: 0 } }, 'operator:bench');
    const policy = await runtime.policies.apply(SLUG, POLICY, 'operator:bench');

    log(`seeding ${USERS} users with ${ENTITLEMENTS.length} active grants each`);
    const seedStarted = performance.now();
    await seedAccess(admin, tenant.id, policy.version);
    const seedMs = performance.now() - seedStarted;

    // The schedule's own timer is pushed out of the way: the sweep measured is the one run below, once.
    worker = await BenchWorker.start({ ...env, LOG_LEVEL: 'warn', LIFECYCLE_INTERVAL: '1h' });
    const workerRss = new RssSampler(worker.child.pid!);
    workerRss.start();
    const rssStarted = workerRss.maxBytes;
    const { rows: accounts } = await admin.query<{ ref: string; userName: string }>(`SELECT ref, user_name AS "userName" FROM connector_accounts WHERE tenant_id = $1`, [tenant.id]);
    const seeded = await worker.ask({ type: 'seed', namespace: NAMESPACE, accounts: accounts.map((a) => ({ ...a, grants: ENTITLEMENTS })) });
    if (seeded.accounts !== USERS) throw new Error(`the downstream holds ${seeded.accounts} accounts, not ${USERS}`);
    await sleep(300);
    const rssSeeded = workerRss.maxBytes;

    const due = await makeDue(admin, tenant.id);
    const { rows: dueUsers } = await admin.query<{ n: number }>(`SELECT count(DISTINCT user_id)::int AS n FROM grants WHERE tenant_id = $1 AND ends_at <= now()`, [tenant.id]);
    const { rows: keep } = await admin.query<{ ref: string; grants: string[] }>(
      `SELECT 'lanyard-' || user_id AS ref, array_agg(entitlement) FILTER (WHERE ends_at > now()) AS grants FROM grants WHERE tenant_id = $1 GROUP BY user_id`,
      [tenant.id],
    );
    await worker.ask({ type: 'expect', namespace: NAMESPACE, accounts: keep.map((k) => [k.ref, k.grants]) });
    const total = USERS * ENTITLEMENTS.length;
    results['tenant'] = { users: USERS, grants: total, due, usersWithDueGrant: dueUsers[0]!.n };
    results['seed'] = { seconds: seconds(seedMs) };
    const { rows: heads } = await admin.query<{ seq: string }>('SELECT seq FROM audit_chain_heads WHERE tenant_id = $1', [tenant.id]);
    const seqBefore = Number(heads[0]!.seq);

    log(`${due} grants due; running the expiry sweep`);
    const started = performance.now();
    const sweep = worker.ask({ type: 'run-schedule', id: 'lifecycle-due' });
    let queuedMs: number | null = null;
    let revokedMs: number | null = null;
    let downstream = await worker.ask({ type: 'effects', namespace: NAMESPACE });
    const timeline: Record<string, unknown>[] = [];
    let nextSample = 0;
    while (performance.now() - started < GIVE_UP_MS) {
      const now = await progress(admin);
      const elapsed = performance.now() - started;
      if (queuedMs === null && now.live === 0) queuedMs = elapsed;
      if (elapsed >= nextSample || (queuedMs !== null && now.inFlight === 0)) {
        downstream = await worker.ask({ type: 'effects', namespace: NAMESPACE });
        if (elapsed >= nextSample) {
          timeline.push({ s: seconds(elapsed), ...now, revokedDownstream: downstream.kinds['revoke'] ?? 0, queues: await runtime.queues().depth() });
          nextSample += SAMPLE_MS;
        }
        if (queuedMs !== null && now.inFlight === 0 && (downstream.kinds['revoke'] ?? 0) >= due) {
          revokedMs = performance.now() - started;
          break;
        }
      }
      await sleep(POLL_MS);
    }
    const swept = await sweep;
    if (!swept.ok) throw new Error(`the sweep failed: ${swept.error}`);
    log(`queued after ${queuedMs === null ? '-' : seconds(queuedMs)} s, revoked after ${revokedMs === null ? '-' : seconds(revokedMs)} s`);
    workerRss.stop();

    results['sweep'] = { marked: swept.result['marked'], seconds: seconds(swept.ms) };
    results['queued'] = {
      seconds: queuedMs === null ? null : seconds(queuedMs),
      target: { seconds: TARGET.queuedSeconds },
      met: queuedMs !== null && queuedMs <= TARGET.queuedSeconds * 1000,
    };
    results['revoked'] = {
      seconds: revokedMs === null ? null : seconds(revokedMs),
      downstreamRevocations: downstream.kinds['revoke'] ?? 0,
      target: { seconds: TARGET.revokedSeconds },
      met: revokedMs !== null && revokedMs <= TARGET.revokedSeconds * 1000,
    };

    // Nothing but the due grants may have changed, each exactly once, for the right reason.
    const { rows: after } = await admin.query<{ grants: number; untouched: number; expired: number; accounts: number; marked: number; holds: number; seq: string }>(
      `SELECT (SELECT count(*) FROM grants WHERE tenant_id = $1)::int AS grants,
              (SELECT count(*) FROM grants WHERE tenant_id = $1 AND state = 'active' AND updated_at = created_at AND ends_at = created_at + $2 * interval '1 hour')::int AS untouched,
              (SELECT count(*) FROM grants WHERE tenant_id = $1 AND ends_at <= now() AND state = 'revoked' AND revoke_reason = 'expired')::int AS expired,
              (SELECT count(*) FROM connector_accounts WHERE tenant_id = $1 AND state = 'active' AND desired = 'active')::int AS accounts,
              (SELECT count(*) FROM reconcile_outbox)::int AS marked,
              (SELECT count(*) FROM deprovision_holds)::int AS holds,
              (SELECT seq FROM audit_chain_heads WHERE tenant_id = $1) AS seq`,
      [tenant.id, MAX_HOURS],
    );
    const a = after[0]!;
    const held = await worker.ask({ type: 'status', namespace: NAMESPACE });
    downstream = await worker.ask({ type: 'effects', namespace: NAMESPACE });
    const otherEffects = downstream.total - (downstream.kinds['revoke'] ?? 0);
    results['unchanged'] = {
      grants: a.grants,
      stillActive: a.untouched,
      revokedAsExpired: a.expired,
      accountsActive: a.accounts,
      stillMarked: a.marked,
      holds: a.holds,
      auditEvents: Number(a.seq) - seqBefore,
      downstreamAsExpected: held.settled && held.lost === 0,
      duplicateEffects: downstream.duplicateEffects,
      otherEffects,
      target: { stillActive: total - due, revokedAsExpired: due, duplicateEffects: 0, otherEffects: 0 },
      met:
        a.grants === total && a.untouched === total - due && a.expired === due && a.accounts === USERS && a.marked === 0 && a.holds === 0 &&
        held.settled && held.lost === 0 && downstream.duplicateEffects === 0 && otherEffects === 0,
    };
    results['timeline'] = timeline;
    const mb = (b: number) => Math.round(b / 1024 / 1024);
    // Once started, once the downstream was filled (its accounts live in the worker), and over the whole run.
    results['workerRssMB'] = { started: mb(rssStarted), seeded: mb(rssSeeded), peak: mb(workerRss.maxBytes) };
  } finally {
    await worker?.stop().catch(() => {});
    await admin.end().catch(() => {});
    // The queues' keys go with the database: nothing of this run is left in Redis.
    await runtime.queues().connection.eval(`for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key) end return 1`, 0, `${prefix}:*`).catch(() => {});
    await runtime.close().catch(() => {});
    await dropDatabase(DB).catch(() => {});
  }

  log(`audit verify of ${AUDIT_EVENTS} events`);
  results['auditVerify'] = await benchAuditVerify({ events: AUDIT_EVENTS });
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
