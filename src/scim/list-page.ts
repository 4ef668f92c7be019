import type pg from 'pg';
import { listResources } from '../store/list-resources.js';
import type { Queryable } from '../store/pool.js';
import { inTenantTx } from '../store/transaction.js';
import type { ResourceCatalog } from './filter/catalog.js';
import { parseFilter } from './filter/parse.js';
import { SqlParams } from './filter/sql-params.js';
import { filterToSql, sortToSql } from './filter/to-sql.js';
import type { ListParams } from './list-params.js';

export interface ListedPage<Rec> {
  total: number;
  records: Rec[];
  /** The read-only transaction the page was read in, for loading what the page's resources refer to. */
  db: Queryable;
}

/**
 * One page of a list or search: the filter and sort compiled to SQL (a bad one fails before any query),
 * then page and total read in one read-only transaction, in which `more` can load related rows.
 */
export async function listPage<Row extends pg.QueryResultRow, Rec, Out>(
  pool: pg.Pool,
  tenantId: string,
  query: { params: ListParams; catalog: ResourceCatalog; table: 'users' | 'groups'; columns: string; toRecord: (row: Row) => Rec },
  more: (page: ListedPage<Rec>) => Promise<Out>,
): Promise<Out> {
  const { params, catalog } = query;
  const sql = new SqlParams([tenantId]);
  const where = params.filter ? filterToSql(parseFilter(params.filter), catalog, sql) : null;
  const orderBy = params.sortBy ? sortToSql(params.sortBy, catalog) : null;
  return inTenantTx(
    pool,
    tenantId,
    async (db) => {
      const page = await listResources<Row>(db, {
        table: query.table,
        columns: query.columns,
        tenantId,
        where,
        params: sql.values.slice(1),
        orderBy,
        descending: params.descending,
        offset: params.startIndex - 1,
        limit: params.count,
      });
      return more({ total: page.total, records: page.rows.map(query.toRecord), db });
    },
    { readOnly: true },
  );
}
