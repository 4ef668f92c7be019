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
  const direction = spec.descending ? 'DESC' : 'ASC';
  const order = spec.orderBy ? `${spec.orderBy} ${direction} NULLS LAST, r.seq ${direction}` : `r.seq ${direction}`;
  let rows: Row[] = [];
  if (spec.limit > 0) {
    // The page's keys are found first, from the index alone, and only those rows are read in full: an
    // OFFSET deep into a large tenant then skips index entries instead of fetching every skipped row.
    const page = await db.query<Row>(
      `SELECT ${spec.columns} FROM ${spec.table} r
         JOIN (SELECT r.seq FROM ${spec.table} r WHERE ${where} ORDER BY ${order}
               LIMIT ${Math.trunc(spec.limit)} OFFSET ${Math.trunc(spec.offset)}) page ON page.seq = r.seq
        WHERE r.tenant_id = $1
        ORDER BY ${order}`,
      params,
    );
    rows = page.rows;
    // A short page that starts the list already tells the total (the common lookup by userName).
    if (rows.length > 0 && rows.length < spec.limit) return { total: spec.offset + rows.length, rows };
    if (rows.length === 0 && spec.offset === 0) return { total: 0, rows };
  }
  const count = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${spec.table} r WHERE ${where}`, params);
  return { total: count.rows[0]!.n, rows };
}
