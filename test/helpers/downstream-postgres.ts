import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loginRoleName } from '../../connectors/postgres/client.js';
import { databaseUrl, dropDatabase, withAdmin } from './databases.js';

/**
 * A real PostgreSQL downstream for the `postgres` connector: its own database, an admin role allowed to
 * create login roles and grant the given group roles, all names carrying a random tag (roles are
 * cluster-wide), everything dropped by `drop`.
 */
export interface DownstreamPostgres {
  /** The connector configuration (`url` carries the admin role). */
  config: { url: string; rolePrefix: string; grantableRoles: string[] };
  /** Group role names by the short name the test gave, e.g. `analyst` → `analyst_1a2b3c4d`. */
  roles: Record<string, string>;
  /** Every login role Lanyard created, with whether it can log in and the group roles it holds. */
  logins(): Promise<{ name: string; enabled: boolean; grants: string[] }[]>;
  /** The login role Lanyard made for one user, if there is one. */
  login(userId: string, userName: string): Promise<{ name: string; enabled: boolean; grants: string[] } | undefined>;
  /** The group roles that user's login role holds; undefined when it has none. */
  grantsOf(userId: string, userName: string): Promise<string[] | undefined>;
  drop(): Promise<void>;
}

export async function createDownstreamPostgres(roleNames: string[]): Promise<DownstreamPostgres> {
  const tag = randomBytes(4).toString('hex');
  const database = `lanyard_downstream_${tag}`;
  const admin = `lanyard_dsadmin_${tag}`;
  const prefix = `lyd${tag}_`;
  const roles = Object.fromEntries(roleNames.map((r) => [r, `${r}_${tag}`]));
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${database}`);
    await c.query(`CREATE ROLE ${admin} LOGIN CREATEROLE`);
    for (const role of Object.values(roles)) {
      await c.query(`CREATE ROLE ${role} NOLOGIN`);
      await c.query(`GRANT ${role} TO ${admin} WITH ADMIN OPTION`);
    }
    await c.query(`GRANT pg_signal_backend TO ${admin}`);
    // What the connector's lastActivity needs to read the times of the partners' sessions.
    await c.query(`GRANT pg_read_all_stats TO ${admin}`);
  });
  const url = new URL(databaseUrl(database));
  url.username = admin;
  const downstream: DownstreamPostgres = {
    config: { url: url.toString(), rolePrefix: prefix, grantableRoles: Object.values(roles) },
    roles,
    async login(userId, userName) {
      const name = loginRoleName(prefix, userId, userName);
      return (await downstream.logins()).find((l) => l.name === name);
    },
    async grantsOf(userId, userName) {
      return (await downstream.login(userId, userName))?.grants;
    },
    logins: () =>
      withAdmin(async (c) => {
        const { rows } = await c.query<{ name: string; enabled: boolean; grants: string[] }>(
          `SELECT u.rolname AS name, u.rolcanlogin AS enabled,
                  ARRAY(SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = u.oid ORDER BY r.rolname) AS grants
             FROM pg_roles u WHERE starts_with(u.rolname, $1) ORDER BY u.rolname`,
          [prefix],
        );
        return rows;
      }),
    async drop() {
      await dropDatabase(database);
      await withAdmin(async (c) => {
        const { rows } = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
        for (const { rolname } of rows) await c.query(`DROP ROLE ${pg.escapeIdentifier(rolname)}`);
        for (const role of [...Object.values(roles), admin]) await c.query(`DROP ROLE IF EXISTS ${role}`);
      });
    },
  };
  return downstream;
}
