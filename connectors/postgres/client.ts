import { createHash } from 'node:crypto';
import pg from 'pg';
import { ConnectorError } from '../kit/connector-error.js';
import { errorFromNetwork } from '../kit/http-status.js';

/** Marks a role as created by Lanyard for one user; nothing without this comment is ever altered. */
export function ownershipComment(userId: string): string {
  return `lanyard:user:${userId}`;
}

/**
 * The login role name for a user: the prefix, a readable part of the userName, and a hash of the user id,
 * so two userNames that read alike never collide and a rename keeps the same role (it is found by id).
 */
export function loginRoleName(prefix: string, userId: string, userName: string): string {
  const readable = userName.toLowerCase().replace(/@.*$/, '').replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  const hash = createHash('sha256').update(userId).digest('hex').slice(0, 8);
  return `${prefix}${readable.slice(0, 63 - prefix.length - 9)}_${hash}`;
}

export interface RoleRow {
  rolname: string;
  rolcanlogin: boolean;
  comment: string | null;
}

/** The downstream database, reached as the configured administrative role. */
export class PostgresClient {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 10_000, application_name: 'lanyard-connector' });
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (err) {
      throw translate(err);
    }
  }

  async role(name: string): Promise<RoleRow | null> {
    const rows = await this.query<RoleRow>(
      `SELECT r.rolname, r.rolcanlogin, shobj_description(r.oid, 'pg_authid') AS comment FROM pg_roles r WHERE r.rolname = $1`,
      [name],
    );
    return rows[0] ?? null;
  }

  async roleOfUser(prefix: string, userId: string): Promise<RoleRow | null> {
    const rows = await this.query<RoleRow>(
      `SELECT r.rolname, r.rolcanlogin, shobj_description(r.oid, 'pg_authid') AS comment
         FROM pg_roles r WHERE starts_with(r.rolname, $1) AND shobj_description(r.oid, 'pg_authid') = $2`,
      [prefix, ownershipComment(userId)],
    );
    return rows[0] ?? null;
  }

  async isMember(member: string, role: string): Promise<boolean> {
    const rows = await this.query(
      `SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE r.rolname = $1 AND u.rolname = $2`,
      [role, member],
    );
    return rows.length > 0;
  }

  async memberships(member: string): Promise<string[]> {
    const rows = await this.query<{ rolname: string }>(
      `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE u.rolname = $1 ORDER BY r.rolname`,
      [member],
    );
    return rows.map((r) => r.rolname);
  }

  /**
   * The latest activity (connect, query start, state change) of the open sessions of a role, in any
   * database of the cluster; null when it has none. `canRead` says whether the times are visible at all:
   * without pg_read_all_stats, other roles' sessions are listed with every time NULL, which would read as
   * "no activity".
   */
  async sessionActivity(role: string): Promise<{ canRead: boolean; last: Date | null }> {
    const [row] = await this.query<{ can_read: boolean; last: Date | null }>(
      `SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS can_read,
              (SELECT max(greatest(backend_start, state_change, query_start)) FROM pg_stat_activity WHERE usename = $1) AS last`,
      [role],
    );
    return { canRead: row?.can_read ?? false, last: row?.last ?? null };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** SQLSTATEs of a refused credential or privilege, and of a missing object, to the contract's codes. */
function translate(err: unknown): unknown {
  const network = errorFromNetwork(err, 'postgres');
  if (network !== err) return network;
  const code = (err as { code?: string }).code ?? '';
  if (code === '28P01' || code === '28000') return new ConnectorError('auth_failed', 'postgres: authentication failed');
  if (code === '42501') return new ConnectorError('forbidden', 'postgres: permission denied');
  if (code === '42704') return new ConnectorError('not_found', 'postgres: role does not exist');
  if (code === '2BP01' || code === '55006') return new ConnectorError('conflict', `postgres: ${(err as Error).message}`);
  if (code === '3D000') return new ConnectorError('invalid_config', 'postgres: the database does not exist');
  if (/^(08|53|57)/.test(code)) return new ConnectorError('unavailable', `postgres: ${(err as Error).message}`);
  return err;
}
