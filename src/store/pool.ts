import pg from 'pg';

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** A parameterised statement; `name` makes PostgreSQL keep it prepared on each connection. */
export interface Statement {
  name?: string;
  text: string;
  values: unknown[];
}

export interface PoolOptions {
  databaseUrl: string;
  /** Role every session switches to, so row-level security applies to the service's own queries. */
  appRole?: string;
  max: number;
  statementTimeoutMs: number;
  applicationName?: string;
}

// timestamptz and int8 arrive as text unless told otherwise; Lanyard never holds counts above 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export function createPool(opts: PoolOptions): pg.Pool {
  const options = [`-c statement_timeout=${opts.statementTimeoutMs}`];
  if (opts.appRole) options.push(`-c role=${opts.appRole}`);
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? 'lanyard',
    options: options.join(' '),
  });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', () => {});
  return pool;
}
