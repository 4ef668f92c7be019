import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginRoleName } from '../../connectors/postgres/client.js';
import { createApp } from '../../src/http/app.js';
import { type RunningWorkers, startWorkers } from '../../src/provisioning/workers.js';
import { CORE_USER, LANYARD_ACCESS } from '../../src/scim/schemas.js';
import { PG_SERVER_URL } from '../helpers/databases.js';
import { createDownstreamPostgres, type DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { analystPolicy, auditActions, grantsOf, idp, INTAKE } from '../helpers/provisioning-tenant.js';
import { startServiceProcess } from '../helpers/service-process.js';
import { startTestService, TEST_MASTER_KEY, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * Postgres is the record of every intent and Redis only carries work: whatever happens to Redis or to a
 * worker, the pipeline converges on what the policy asks, with no duplicate account or grant.
 */
let svc: TestService;
let t: TestTenant;
let downstream: DownstreamPostgres;
let scim: ReturnType<typeof idp>;
let analysts: string;
let redis: Redis;

const POLICY = (role: string) => analystPolicy(role);

/** Workers in this process on the service's database and queues, with a quick sweep. */
function workers(): Promise<RunningWorkers> {
  return startWorkers({
    pool: svc.runtime.pool,
    queues: svc.runtime.queues(),
    redisUrl: svc.config.redisUrl,
    masterKey: svc.config.masterKey,
    config: { ...svc.config.jobs, sweepIntervalMs: 500, sweepGraceMs: 500 },
    log: pino({ level: 'silent' }),
  });
}

/**
 * Every key of this service's queues, deleted at once (one script, as a restart without persistence
 * would): what Redis holds afterwards is what the workers write from then on.
 */
async function wipeQueues(): Promise<void> {
  await redis.eval(`for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key) end return 1`, 0, `${svc.config.jobs.queuePrefix}:*`);
}

async function converged(users: { id: string; userName: string }[]): Promise<void> {
  await eventually(
    async () => {
      const logins = await downstream.logins();
      for (const u of users) {
        expect((await grantsOf(svc, t, u.id)).map((g) => g.state)).toEqual(['active']);
        const mine = logins.filter((l) => l.name === loginRoleName(downstream.config.rolePrefix, u.id, u.userName));
        expect(mine).toEqual([{ name: expect.any(String), enabled: true, grants: [downstream.roles['analyst']] }]);
      }
    },
    { timeoutMs: 25_000 },
  );
}

async function newAnalysts(prefix: string, n: number): Promise<{ id: string; userName: string }[]> {
  const users = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const userName = `${prefix}${i}@globex.example`;
      return { id: await scim.createUser(userName), userName };
    }),
  );
  await scim.members(
    analysts,
    'add',
    users.map((u) => u.id),
  );
  return users;
}

beforeAll(async () => {
  downstream = await createDownstreamPostgres(['analyst']);
  svc = await startTestService({ WORKER_LOCK_MS: '2000' });
  redis = new Redis(svc.config.redisUrl, { maxRetriesPerRequest: 1 });
  t = await svc.tenant();
  scim = idp(svc, t);
  await svc.runtime.connectors.add(t.slug, { name: 'warehouse', kind: 'postgres', config: downstream.config }, 'operator:test');
  await svc.runtime.policies.apply(t.slug, POLICY(downstream.roles['analyst']!), 'operator:test');
  analysts = await scim.createGroup('Partner Analysts');
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await svc?.close();
  await downstream?.drop();
});

describe('recovery', () => {
  it('loses nothing when the process stops between the PostgreSQL commit and the enqueue', async () => {
    // A SCIM endpoint whose after-commit enqueue never happens, as if the process died right after commit.
    const app = createApp({ config: svc.config, pool: svc.runtime.pool, admin: svc.runtime, redis, log: pino({ level: 'silent' }) });
    const userName = 'committed.only@globex.example';
    const res = await supertest(app)
      .post(`${t.path}/Users`)
      .set(t.auth)
      .send({ schemas: [CORE_USER, LANYARD_ACCESS], userName, [LANYARD_ACCESS]: INTAKE, groups: [] });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const patch = await supertest(app)
      .patch(`${t.path}/Groups/${analysts}`)
      .set(t.auth)
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
    expect(patch.status).toBe(204);
    expect((await svc.runtime.queues().depth()).reconcile).toBe(0);

    const running = await workers();
    try {
      await converged([{ id, userName }]);
    } finally {
      await running.close();
    }
  });

  it('re-creates every pending intent from PostgreSQL after Redis lost its data, and converges', async () => {
    const users = await newAnalysts('flushed', 15);
    expect((await svc.runtime.queues().depth()).reconcile).toBeGreaterThan(0);
    await wipeQueues();
    expect(await svc.runtime.queues().depth()).toEqual({ reconcile: 0, reconcilePriority: 0, grants: 0, revocations: 0 });

    const running = await workers();
    try {
      await converged(users);
      // And again in the middle of the work: reconciles done, downstream work queued, then Redis empties.
      const more = await newAnalysts('midflight', 15);
      await eventually(async () => expect((await svc.sql('SELECT 1 FROM reconcile_outbox WHERE tenant_id = $1', [t.id])).length).toBeLessThan(15));
      await wipeQueues();
      await converged([...users, ...more]);
    } finally {
      await running.close();
    }
  }, 60_000);

  it('runs a job again after its worker is killed mid-call, with no duplicate account or grant', async () => {
    const userName = 'killed.mid.job@globex.example';
    const id = await scim.createUser(userName);
    const role = loginRoleName(downstream.config.rolePrefix, id, userName);
    const env = {
      DATABASE_URL: svc.database.url,
      LANYARD_MASTER_KEY: TEST_MASTER_KEY,
      QUEUE_PREFIX: svc.config.jobs.queuePrefix,
      WORKER_LOCK_MS: '2000',
      SWEEP_INTERVAL: '1s',
      SWEEP_GRACE: '1s',
      LOG_LEVEL: 'info',
    };
    const first = await startServiceProcess(env, 30_000, [], 'worker');
    // Hold the downstream: the worker's CREATE ROLE waits on this uncommitted one of the same name.
    const holder = new pg.Client({ connectionString: PG_SERVER_URL });
    await holder.connect();
    let second: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query(`CREATE ROLE ${pg.escapeIdentifier(role)}`);
      await scim.members(analysts, 'add', [id]);
      await eventually(async () => {
        // Asked on another connection: inside the holder's transaction the activity view would not change.
        const waiting = await svc.sql(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'lanyard-connector' AND wait_event_type = 'Lock' AND query LIKE 'CREATE ROLE%'`);
        expect(waiting).toHaveLength(1);
      });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // The killed worker's statement may still complete in the downstream once the hold goes: the job
      // that runs again must take that into account.
      await holder.query('ROLLBACK');

      second = await startServiceProcess(env, 30_000, [], 'worker');
      await converged([{ id, userName }]);
    } finally {
      await holder.end();
      await second?.stop();
    }
    const [grant] = await grantsOf(svc, t, id);
    expect(await auditActions(svc, t, grant!.id)).toEqual(['grant.requested', 'grant.activated']);
    expect(await svc.sql('SELECT state FROM connector_accounts WHERE tenant_id = $1 AND user_id = $2', [t.id, id])).toEqual([{ state: 'active' }]);
    expect((await auditActions(svc, t, id)).filter((a) => a.startsWith('account.'))).toEqual(['account.created']);
  }, 60_000);
});
