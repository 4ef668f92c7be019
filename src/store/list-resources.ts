import type pg from 'pg';
import type { Queryable } from './pool.js';

export interface ListSpec {
  table: 'users' | 'groups';
  columns: string;
  tenantId: string;
  /** A parenthesised condition over alias `r`, with placeholders numbered from $2 (already in `params`). */
  where: string | null;
  params: unknown[];
  /** ORDER BY expression over alias `r`, or null for the stable default. */
  orderBy: string | null;
  descending: boolean;
  offset: number;
  limit: number;
}

/**
 * One page of a tenant's resources and the total count, both in SQL: paging never loads more rows than it
 * returns. `seq` breaks ties, so pages are stable while nothing changes.
 */
export async function listResources<Row extends pg.QueryResultRow>(db: Queryable, spec: ListSpec): Promise<{ total: number; rows: Row[] }> {
  const where = `r.tenant_id = $1${spec.where ? ` AND ${spec.where}` : ''}`;
  const params = [spec.tenantId, ...spec.params];
  const count = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${spec.table} r WHERE ${where}`, params);
  const total = count.rows[0]!.n;
  if (spec.limit === 0 || spec.offset >= total) return { total, rows: [] };
  const direction = spec.descending ? 'DESC' : 'ASC';
  const order = spec.orderBy
    ? `${spec.orderBy} ${direction} NULLS LAST, r.seq ${direction}`
    : `r.seq ${direction}`;
  const page = await db.query<Row>(
    `SELECT ${spec.columns} FROM ${spec.table} r WHERE ${where} ORDER BY ${order}
     LIMIT ${Math.trunc(spec.limit)} OFFSET ${Math.trunc(spec.offset)}`,
    params,
  );
  return { total, rows: page.rows };
}
