import { Redis } from 'ioredis';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { createApp } from '../src/http/app.js';
import { openRuntime } from '../src/runtime.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.js';

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const TOKEN_LINE = /^lanyard_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\n$/;
const TIMEOUT = 60_000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** Runs the real CLI in a child process, as an operator would. */
function lanyard(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { DATABASE_URL: db.url, LANYARD_MASTER_KEY: MASTER_KEY, PUBLIC_BASE_URL: 'https://lanyard.test', ...env });
}

function jsonError(stderr: string): { code: string; message: string } {
  const parsed = JSON.parse(stderr.trim()) as { error: { code: string; message: string } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(typeof parsed.error.message).toBe('string');
  return parsed.error;
}

/** Calls the SCIM endpoint in-process against the database the CLI wrote to. */
async function scimStatus(slug: string, token: string): Promise<number> {
  const config = loadConfig({ DATABASE_URL: db.url, LANYARD_MASTER_KEY: MASTER_KEY, PUBLIC_BASE_URL: 'https://lanyard.test', LOG_LEVEL: 'silent' });
  const log = pino({ level: 'silent' });
  const runtime = await openRuntime(config, log);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const app = createApp({ config, pool: runtime.pool, admin: runtime, redis, log });
    const res = await supertest(app).get(`/scim/v2/${slug}/Users`).set('Authorization', `Bearer ${token}`);
    return res.status;
  } finally {
    redis.disconnect();
    await runtime.close();
  }
}

describe('lanyard CLI', () => {
  const slug = 'acme';
  let firstToken = '';
  let secondToken = '';
  let secondId = '';

  it(
    'tenant create prints the SCIM base URL; --json gives the tenant as JSON',
    async () => {
      const human = await lanyard(['tenant', 'create', slug, '--name', 'Acme Corp']);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`https://lanyard.test/scim/v2/${slug}`);
      expect(human.stdout).toContain('Acme Corp');

      const json = await lanyard(['tenant', 'create', 'globex', '--json']);
      expect(json.code).toBe(0);
      const created = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        slug: 'globex',
        name: 'globex',
        status: 'active',
        scimBaseUrl: 'https://lanyard.test/scim/v2/globex',
      });
    },
    TIMEOUT,
  );

  it(
    'token issue prints only the token on stdout; details go to stderr; the token works',
    async () => {
      const res = await lanyard(['token', 'issue', slug]);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(TOKEN_LINE);
      firstToken = res.stdout.trim();
      expect(res.stderr).toContain(`https://lanyard.test/scim/v2/${slug}`);
      expect(res.stderr).not.toContain(firstToken);
      expect(await scimStatus(slug, firstToken)).toBe(200);
      // A token of acme is not one of globex.
      expect(await scimStatus('globex', firstToken)).toBe(401);
    },
    TIMEOUT,
  );

  it(
    'token issue --ttl 30d --json gives {token, id, expiresAt} about 30 days ahead',
    async () => {
      const before = Date.now();
      const res = await lanyard(['token', 'issue', slug, '--ttl', '30d', '--json']);
      expect(res.code).toBe(0);
      expect(res.stderr).toBe('');
      const issued = JSON.parse(res.stdout) as { token: string; id: string; expiresAt: string };
      expect(Object.keys(issued).sort()).toEqual(['expiresAt', 'id', 'token']);
      expect(`${issued.token}\n`).toMatch(TOKEN_LINE);
      expect(issued.token.slice('lanyard_'.length, 'lanyard_'.length + 32)).toBe(issued.id.replace(/-/g, ''));
      const thirtyDays = 30 * 86_400_000;
      const expires = Date.parse(issued.expiresAt);
      expect(expires).toBeGreaterThanOrEqual(before + thirtyDays - 1_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + thirtyDays + 1_000);
      secondToken = issued.token;
      secondId = issued.id;
    },
    TIMEOUT,
  );

  it(
    'a third active token is refused with exit 5, nothing on stdout',
    async () => {
      const res = await lanyard(['token', 'issue', slug, '--json']);
      expect(res.code).toBe(5);
      expect(res.stdout).toBe('');
      expect(jsonError(res.stderr).code).toBe('limit_reached');
    },
    TIMEOUT,
  );

  it(
    'token list --json shows both tokens active and never their values; revoke turns one revoked',
    async () => {
      expect(secondId).not.toBe('');
      const listed = await lanyard(['token', 'list', slug, '--json']);
      expect(listed.code).toBe(0);
      const rows = JSON.parse(listed.stdout) as { id: string; state: string }[];
      expect(rows).toHaveLength(2);
      expect(rows.every((r) => r.state === 'active')).toBe(true);
      expect(rows.map((r) => r.id)).toContain(secondId);
      for (const token of [firstToken, secondToken]) {
        const secret = token.split('_').slice(2).join('_');
        expect(listed.stdout).not.toContain(token);
        expect(listed.stdout).not.toContain(secret);
      }

      const revoked = await lanyard(['token', 'revoke', slug, secondId]);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain(secondId);

      const after = await lanyard(['token', 'list', slug, '--json']);
      const states = Object.fromEntries((JSON.parse(after.stdout) as { id: string; state: string }[]).map((r) => [r.id, r.state]));
      expect(states[secondId]).toBe('revoked');
      expect(Object.values(states).sort()).toEqual(['active', 'revoked']);
      expect(await scimStatus(slug, secondToken)).toBe(401);
      expect(await scimStatus(slug, firstToken)).toBe(200);
    },
    TIMEOUT,
  );

  it(
    'refusals go to stderr with their exit status and nothing on stdout',
    async () => {
      // Started together on purpose: several processes starting at once must not trip over each other.
      const [duplicate, unknown, badSlug, badTtl, badTtlJson, longTtl] = await Promise.all([
        lanyard(['tenant', 'create', slug]),
        lanyard(['token', 'issue', 'no-such-tenant', '--json']),
        lanyard(['tenant', 'create', 'Bad_Slug', '--json']),
        lanyard(['token', 'issue', slug, '--ttl', '5x']),
        lanyard(['token', 'issue', slug, '--ttl', '5x', '--json']),
        lanyard(['token', 'issue', 'globex', '--ttl', '401d', '--json']),
      ]);

      expect(duplicate.code).toBe(4);
      expect(duplicate.stdout).toBe('');
      expect(duplicate.stderr).toMatch(/^lanyard: .*already exists/);

      expect(unknown.code).toBe(3);
      expect(unknown.stdout).toBe('');
      expect(jsonError(unknown.stderr)).toMatchObject({ code: 'not_found', message: expect.stringContaining('no-such-tenant') });

      expect(badSlug.code).toBe(2);
      expect(badSlug.stdout).toBe('');
      expect(jsonError(badSlug.stderr)).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('slug') });

      expect(badTtl.code).toBe(2);
      expect(badTtl.stdout).toBe('');
      expect(badTtl.stderr).toContain('--ttl');

      // A usage mistake under --json is reported as JSON too, without the help text.
      expect(badTtlJson.code).toBe(2);
      expect(badTtlJson.stdout).toBe('');
      expect(jsonError(badTtlJson.stderr)).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('--ttl') });

      expect(longTtl.code).toBe(2);
      expect(longTtl.stdout).toBe('');
      expect(jsonError(longTtl.stderr)).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('SCIM_TOKEN_MAX_TTL') });
    },
    TIMEOUT,
  );

  it(
    'commands started while another process holds the migration lock wait for it instead of failing',
    async () => {
      // Several processes starting at once (CLI calls, service replicas) all run the migrations step.
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
        const pending = lanyard(['tenant', 'list', '--json']);
        await new Promise((r) => setTimeout(r, 2_500));
        await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
        const res = await pending;
        expect(res.stderr).toBe('');
        expect(res.code).toBe(0);
        expect((JSON.parse(res.stdout) as { slug: string }[]).map((t) => t.slug).sort()).toEqual(['acme', 'globex']);
      } finally {
        await holder.end();
      }
    },
    TIMEOUT,
  );

  it(
    'a bad environment value stops the command, naming the variable but not echoing the value',
    async () => {
      const [badUrl, badKey] = await Promise.all([
        lanyard(['tenant', 'list', '--json'], { DATABASE_URL: 'not-a-url' }),
        lanyard(['tenant', 'list'], { LANYARD_MASTER_KEY: 'sh0rtK3y' }),
      ]);
      expect(badUrl.code).toBe(78);
      expect(badUrl.stdout).toBe('');
      expect(jsonError(badUrl.stderr)).toMatchObject({ code: 'invalid_config', message: expect.stringContaining('DATABASE_URL') });
      expect(badUrl.stderr).not.toContain('not-a-url');

      expect(badKey.code).toBe(78);
      expect(badKey.stdout).toBe('');
      expect(badKey.stderr).toContain('LANYARD_MASTER_KEY');
      expect(badKey.stderr).not.toContain('sh0rtK3y');
    },
    TIMEOUT,
  );
});
