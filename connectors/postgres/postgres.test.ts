import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, withAdmin } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { connectorConformance } from '../kit/conformance.js';
import type { Connector } from '../kit/contract.js';
import { loginRoleName } from './client.js';
import { postgresConnector } from './index.js';

/**
 * Runs against the machine's real PostgreSQL. Roles are cluster-wide, so every name here carries a random
 * tag, and everything created is dropped afterwards.
 */
const tag = randomBytes(4).toString('hex');
const prefix = `lyt${tag}_`;
const database = `lanyard_pgconn_${tag}`;
const admin = `lanyard_admin_${tag}`;
const reader = `warehouse_ro_${tag}`;
const loader = `warehouse_load_${tag}`;
const dangerous = `warehouse_dba_${tag}`;
const log = { debug() {}, info() {}, warn() {} };

function adminUrl(): string {
  const url = new URL(databaseUrl(database));
  url.username = admin;
  return url.toString();
}

function connector(extra: Record<string, unknown> = {}): Connector {
  return postgresConnector.create(postgresConnector.configSchema.parse({ url: adminUrl(), rolePrefix: prefix, ...extra }), { log });
}

/** A real session of a login role, the way a partner would open one (the server trusts 127.0.0.1). */
async function openSession(role: string): Promise<pg.Client> {
  const url = new URL(databaseUrl(database));
  url.username = role;
  const session = new pg.Client({ connectionString: url.toString() });
  session.on('error', () => {});
  await session.connect();
  return session;
}

async function inspectRole(name: string) {
  return withAdmin(async (c) => {
    const role = await c.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [name]);
    const grants = await c.query<{ rolname: string }>(
      `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
      [name],
    );
    return { exists: role.rowCount === 1, enabled: role.rows[0]?.rolcanlogin ?? false, grants: grants.rows.map((g) => `role:${g.rolname}`) };
  });
}

beforeAll(async () => {
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${database}`);
    await c.query(`CREATE ROLE ${admin} LOGIN CREATEROLE`);
    await c.query(`CREATE ROLE ${reader} NOLOGIN`);
    await c.query(`CREATE ROLE ${loader} NOLOGIN`);
    await c.query(`CREATE ROLE ${dangerous} NOLOGIN CREATEDB`);
    await c.query(`GRANT ${reader}, ${loader} TO ${admin} WITH ADMIN OPTION`);
    await c.query(`GRANT pg_signal_backend TO ${admin}`);
    await c.query(`GRANT pg_read_all_stats TO ${admin}`);
  });
});

afterAll(async () => {
  await dropDatabase(database);
  await withAdmin(async (c) => {
    const { rows } = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
    for (const { rolname } of rows) await c.query(`DROP ROLE ${pg.escapeIdentifier(rolname)}`);
    for (const role of [reader, loader, dangerous, admin]) await c.query(`DROP ROLE IF EXISTS ${role}`);
  });
});

connectorConformance('postgres', async () => ({
  connector: connector({ grantableRoles: [reader, loader] }),
  entitlements: [`role:${reader}`, `role:${loader}`],
  unknownEntitlement: `role:no_such_role_${tag}`,
  newAccount: () => {
    const userId = randomUUID();
    return { userId, userName: `partner.${userId.slice(0, 6)}@globex.example` };
  },
  inspect: (ref) => inspectRole(ref.id),
}));

describe('postgres connector', () => {
  it('names login roles after the user, deterministically and without collisions', () => {
    const a = loginRoleName(prefix, '11111111-1111-4111-8111-111111111111', 'Pat.Lee@globex.example');
    expect(a).toMatch(new RegExp(`^${prefix}pat_lee_[0-9a-f]{8}$`));
    expect(loginRoleName(prefix, '11111111-1111-4111-8111-111111111111', 'Pat.Lee@globex.example')).toBe(a);
    expect(loginRoleName(prefix, '22222222-2222-4222-8222-222222222222', 'pat_lee@globex.example')).not.toBe(a);
    expect(loginRoleName(prefix, randomUUID(), 'x'.repeat(200)).length).toBeLessThanOrEqual(63);
  });

  it('keeps the role when the user is renamed: it is found by the user id', async () => {
    const c = connector();
    try {
      const userId = randomUUID();
      const first = await c.accounts!.ensure({ userId, userName: 'before@globex.example' }, { idempotencyKey: 'a' });
      const again = await c.accounts!.ensure({ userId, userName: 'after@globex.example' }, { idempotencyKey: 'b' });
      expect(again).toEqual({ result: 'unchanged', value: first.value });
    } finally {
      await c.close!();
    }
  });

  it('never alters a role it did not create', async () => {
    const userId = randomUUID();
    const squatted = loginRoleName(prefix, userId, 'squat@globex.example');
    await withAdmin((c) => c.query(`CREATE ROLE ${pg.escapeIdentifier(squatted)} LOGIN`));
    const c = connector();
    try {
      await expect(c.accounts!.ensure({ userId, userName: 'squat@globex.example' }, { idempotencyKey: 'x' })).rejects.toMatchObject({ code: 'conflict' });
      await expect(c.accounts!.disable({ id: squatted }, { idempotencyKey: 'y' })).rejects.toMatchObject({ code: 'conflict' });
      await expect(c.entitlements.grant({ id: squatted }, `role:${reader}`, { idempotencyKey: 'z' })).rejects.toMatchObject({ code: 'conflict' });
      expect(await inspectRole(squatted)).toEqual({ exists: true, enabled: true, grants: [] });
    } finally {
      await c.close!();
    }
  });

  it('offers only roles that cannot log in and carry no dangerous attribute, or the configured list', async () => {
    const open = connector();
    const narrow = connector({ grantableRoles: [reader] });
    try {
      const offered = (await open.entitlements.list()).map((e) => e.id);
      expect(offered).toEqual(expect.arrayContaining([`role:${reader}`, `role:${loader}`]));
      expect(offered).not.toContain(`role:${dangerous}`);
      expect(offered).not.toContain(`role:${admin}`);
      expect(offered.some((e) => e.startsWith('role:pg_'))).toBe(false);
      expect((await narrow.entitlements.list()).map((e) => e.id)).toEqual([`role:${reader}`]);
      const account = await narrow.accounts!.ensure({ userId: randomUUID(), userName: 'n@globex.example' }, { idempotencyKey: 'n' });
      await expect(narrow.entitlements.grant(account.value, `role:${loader}`, { idempotencyKey: 'm' })).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await open.close!();
      await narrow.close!();
    }
  });

  it('ends the sessions of an account it disables', async () => {
    const c = connector();
    try {
      const { value } = await c.accounts!.ensure({ userId: randomUUID(), userName: 'session@globex.example' }, { idempotencyKey: 's' });
      const url = new URL(databaseUrl(database));
      url.username = value.id;
      const partner = new pg.Client({ connectionString: url.toString() });
      partner.on('error', () => {});
      await partner.connect();
      await partner.query('SELECT 1');
      await c.accounts!.disable(value, { idempotencyKey: 't' });
      await expect(partner.query('SELECT 1')).rejects.toThrow();
      await partner.end().catch(() => {});
      const again = new pg.Client({ connectionString: url.toString() });
      await expect(again.connect()).rejects.toThrow(/not permitted to log in/);
    } finally {
      await c.close!();
    }
  });

  it('reports a role that cannot create roles, and a database that does not exist, as connector errors', async () => {
    const weak = `lanyard_weak_${tag}`;
    await withAdmin((c) => c.query(`CREATE ROLE ${weak} LOGIN`));
    try {
      const url = new URL(databaseUrl(database));
      url.username = weak;
      const c = postgresConnector.create(postgresConnector.configSchema.parse({ url: url.toString(), rolePrefix: prefix }), { log });
      await expect(c.verify()).rejects.toMatchObject({ name: 'ConnectorError', code: 'forbidden' });
      await c.close!();
      const gone = postgresConnector.create(postgresConnector.configSchema.parse({ url: databaseUrl(`no_such_db_${tag}`), rolePrefix: prefix }), { log });
      await expect(gone.verify()).rejects.toMatchObject({ name: 'ConnectorError', code: 'invalid_config' });
      await gone.close!();
    } finally {
      await withAdmin((c) => c.query(`DROP ROLE ${weak}`));
    }
  });

  it('reports no activity for an account that has never had a session', async () => {
    const c = connector();
    try {
      const { value } = await c.accounts!.ensure({ userId: randomUUID(), userName: 'idle@globex.example' }, { idempotencyKey: 'i' });
      expect(await c.lastActivity!(value)).toBeNull();
    } finally {
      await c.close!();
    }
  });

  // PostgreSQL keeps no last-login time: once the last session of a role has ended, nothing is left to
  // report, and the answer goes back to null. The lifecycle keeps the latest activity it has observed.
  it('reports the latest activity of an open session, and null again once the session has ended', async () => {
    const c = connector();
    try {
      const { value } = await c.accounts!.ensure({ userId: randomUUID(), userName: 'active@globex.example' }, { idempotencyKey: 'o' });
      const connected = Date.now();
      const session = await openSession(value.id);
      try {
        // Later than the connection: the last query counts, not only when the session began.
        await new Promise((r) => setTimeout(r, 1_100));
        const queried = Date.now();
        await session.query('SELECT 1');
        const seen = await c.lastActivity!(value);
        expect(seen).toBeInstanceOf(Date);
        expect(seen!.getTime()).toBeGreaterThanOrEqual(queried - 100);
        expect(seen!.getTime()).toBeGreaterThan(connected + 1_000);
        expect(seen!.getTime()).toBeLessThanOrEqual(Date.now() + 100);
        expect(Date.now() - seen!.getTime()).toBeLessThan(60_000);
      } finally {
        await session.end();
      }
      await eventually(async () => expect(await c.lastActivity!(value)).toBeNull(), { timeoutMs: 5_000 });
    } finally {
      await c.close!();
    }
  });

  it('never looks at the activity of a role it did not create: not_found, even while that role has a session', async () => {
    const squatted = loginRoleName(prefix, randomUUID(), 'elsewhere@globex.example');
    await withAdmin((c) => c.query(`CREATE ROLE ${pg.escapeIdentifier(squatted)} LOGIN`));
    const session = await openSession(squatted);
    const c = connector();
    try {
      await session.query('SELECT 1');
      await expect(c.lastActivity!({ id: squatted })).rejects.toMatchObject({ name: 'ConnectorError', code: 'not_found' });
      await expect(c.lastActivity!({ id: `no_such_role_${tag}` })).rejects.toMatchObject({ name: 'ConnectorError', code: 'not_found' });
    } finally {
      await session.end();
      await c.close!();
    }
  });

  // Without pg_read_all_stats the server lists other roles' sessions with every time NULL: answering null
  // would claim "no activity" for an account that is in use right now.
  it('answers forbidden, not null, when the configured role cannot read session times', async () => {
    const blind = `lanyard_blind_${tag}`;
    await withAdmin((c) => c.query(`CREATE ROLE ${blind} LOGIN CREATEROLE`));
    const c = connector();
    const url = new URL(databaseUrl(database));
    url.username = blind;
    const weak = postgresConnector.create(postgresConnector.configSchema.parse({ url: url.toString(), rolePrefix: prefix }), { log });
    try {
      const { value } = await c.accounts!.ensure({ userId: randomUUID(), userName: 'watched@globex.example' }, { idempotencyKey: 'w' });
      const session = await openSession(value.id);
      try {
        await session.query('SELECT 1');
        expect(await c.lastActivity!(value)).toBeInstanceOf(Date);
        await expect(weak.lastActivity!(value)).rejects.toMatchObject({ name: 'ConnectorError', code: 'forbidden' });
      } finally {
        await session.end();
      }
    } finally {
      await c.close!();
      await weak.close!();
      await withAdmin((c) => c.query(`DROP ROLE ${blind}`));
    }
  });
});
