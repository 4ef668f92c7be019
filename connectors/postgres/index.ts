import pg from 'pg';
import { ConnectorError } from '../kit/connector-error.js';
import type { AccountRef, Connector, ConnectorKind } from '../kit/contract.js';
import { loginRoleName, ownershipComment, PostgresClient, type RoleRow } from './client.js';
import { type PostgresConfig, postgresConfigSchema } from './config.js';

const ROLE_PREFIX = 'role:';
const unchanged = { result: 'unchanged' as const, value: undefined };
const changed = { result: 'changed' as const, value: undefined };

/**
 * Partner access to a PostgreSQL database. Account = a login role Lanyard creates (and marks as its own);
 * entitlements = membership in existing group roles (`role:<name>`); disable = NOLOGIN; remove = DROP ROLE;
 * last activity = the latest of the role's open sessions. Roles are cluster-wide, so Lanyard never alters
 * one it did not create.
 */
export const postgresConnector: ConnectorKind<PostgresConfig> = {
  kind: 'postgres',
  configSchema: postgresConfigSchema,
  secretFields: ['url'],
  create(config, deps): Connector {
    const db = new PostgresClient(config.url);
    const id = pg.escapeIdentifier;

    /** Whether Lanyard created the role: it carries the prefix and Lanyard's mark. */
    const isLanyards = (role: RoleRow): boolean => role.rolname.startsWith(config.rolePrefix) && Boolean(role.comment?.startsWith('lanyard:user:'));

    /** The role behind a ref, refused unless Lanyard created it. */
    const ownRole = async (ref: AccountRef) => {
      const role = await db.role(ref.id);
      if (!role) return null;
      if (!isLanyards(role)) {
        throw new ConnectorError('conflict', `role "${ref.id}" was not created by Lanyard; it is left alone`);
      }
      return role;
    };

    const grantable = async (): Promise<string[]> => {
      if (config.grantableRoles) return [...config.grantableRoles].sort();
      const rows = await db.query<{ rolname: string }>(
        `SELECT rolname FROM pg_roles
          WHERE NOT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole AND NOT rolcreatedb AND NOT rolreplication
            AND NOT rolbypassrls AND rolname NOT LIKE 'pg\\_%' AND NOT starts_with(rolname, $1)
          ORDER BY rolname`,
        [config.rolePrefix],
      );
      return rows.map((r) => r.rolname);
    };

    const entitlementRole = async (entitlement: string): Promise<string> => {
      const name = entitlement.startsWith(ROLE_PREFIX) ? entitlement.slice(ROLE_PREFIX.length) : '';
      if (!name || !(await grantable()).includes(name) || !(await db.role(name))) {
        throw new ConnectorError('not_found', `"${entitlement}" is not a grantable role`);
      }
      return name;
    };

    return {
      async verify() {
        const [me] = await db.query<{ can: boolean }>('SELECT rolcreaterole OR rolsuper AS can FROM pg_roles WHERE rolname = current_user');
        if (!me?.can) throw new ConnectorError('forbidden', 'postgres: the configured role cannot create roles (CREATEROLE)');
      },

      accounts: {
        async ensure(account) {
          const existing = await db.roleOfUser(config.rolePrefix, account.userId);
          if (existing) {
            if (existing.rolcanlogin) return { result: 'unchanged', value: { id: existing.rolname } };
            await db.query(`ALTER ROLE ${id(existing.rolname)} LOGIN`);
            return { result: 'changed', value: { id: existing.rolname } };
          }
          const name = loginRoleName(config.rolePrefix, account.userId, account.userName);
          if (await db.role(name)) throw new ConnectorError('conflict', `role "${name}" exists and was not created by Lanyard`);
          try {
            // One implicit transaction: a crash between the two would leave a role that is not marked as
            // Lanyard's, which every later call would then refuse to touch.
            await db.query(`CREATE ROLE ${id(name)} LOGIN NOINHERIT; COMMENT ON ROLE ${id(name)} IS ${pg.escapeLiteral(ownershipComment(account.userId))}`);
          } catch (err) {
            // Created meanwhile by another run of the same job: that is the state asked for.
            const raced = await db.roleOfUser(config.rolePrefix, account.userId);
            if (raced?.rolcanlogin) return { result: 'unchanged', value: { id: raced.rolname } };
            throw err;
          }
          return { result: 'changed', value: { id: name } };
        },

        async disable(ref) {
          const role = await ownRole(ref);
          if (!role) throw new ConnectorError('not_found', `role "${ref.id}" does not exist`);
          if (!role.rolcanlogin) return unchanged;
          await db.query(`ALTER ROLE ${id(role.rolname)} NOLOGIN`);
          if (config.terminateSessions) {
            // Needs pg_signal_backend; without it the account still cannot log in again, so go on, but say so.
            await db.query('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1', [role.rolname]).catch((err: unknown) => {
              deps.log.warn({ role: role.rolname, code: (err as { code?: string }).code }, 'could not end the sessions of a disabled account');
            });
          }
          return changed;
        },

        async remove(ref) {
          const role = await ownRole(ref);
          if (!role) return unchanged;
          await db.query(`DROP ROLE ${id(role.rolname)}`);
          return changed;
        },
      },

      entitlements: {
        async list() {
          return (await grantable()).map((name) => ({ id: `${ROLE_PREFIX}${name}` }));
        },
        async grant(ref, entitlement) {
          const target = await entitlementRole(entitlement);
          const role = await ownRole(ref);
          if (!role) throw new ConnectorError('not_found', `role "${ref.id}" does not exist`);
          if (await db.isMember(role.rolname, target)) return unchanged;
          await db.query(`GRANT ${id(target)} TO ${id(role.rolname)}`);
          return changed;
        },
        async revoke(ref, entitlement) {
          const target = await entitlementRole(entitlement);
          const role = await ownRole(ref);
          if (!role || !(await db.isMember(role.rolname, target))) return unchanged;
          await db.query(`REVOKE ${id(target)} FROM ${id(role.rolname)}`);
          return changed;
        },
        async grantsOf(ref) {
          const role = await ownRole(ref);
          return role ? (await db.memberships(role.rolname)).map((name) => `${ROLE_PREFIX}${name}`) : [];
        },
      },

      async lastActivity(ref) {
        // A role Lanyard did not create is never looked at. For this connector no account stands behind such
        // a ref, as for a missing role, hence `not_found`; `forbidden` stays the answer for a missing privilege.
        const role = await db.role(ref.id);
        if (!role || !isLanyards(role)) throw new ConnectorError('not_found', `no login role of Lanyard's named "${ref.id}"`);
        // PostgreSQL keeps no last-login time: the open sessions are all it can tell (README.md).
        const { canRead, last } = await db.sessionActivity(role.rolname);
        if (!canRead) throw new ConnectorError('forbidden', 'postgres: the configured role needs pg_read_all_stats to read session times');
        return last;
      },

      close: () => db.close(),
    };
  },
};
