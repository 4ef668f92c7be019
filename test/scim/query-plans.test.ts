import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/scim/filter/parse.js';
import { SqlParams } from '../../src/scim/filter/sql-params.js';
import { filterToSql, sortToSql } from '../../src/scim/filter/to-sql.js';
import { resourceCatalogs } from '../../src/scim/resource-catalogs.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * The lookups identity providers make on every sync must be served by an index even under row-level
 * security, where PostgreSQL refuses to use an index on a non-leakproof expression such as lower(column).
 */
let svc: TestService;
let t: TestTenant;
let app: pg.Client;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
  const owner = new pg.Client({ connectionString: svc.database.url });
  await owner.connect();
  await owner.query(
    `INSERT INTO users (tenant_id, user_name, active, doc)
     SELECT $1, 'user' || g || '@plans.example', true, jsonb_build_object('userName', 'user' || g || '@plans.example')
       FROM generate_series(1, 5000) g`,
    [t.id],
  );
  await owner.query(
    `INSERT INTO groups (tenant_id, display_name, doc)
     SELECT $1, 'Group ' || g, jsonb_build_object('displayName', 'Group ' || g) FROM generate_series(1, 2000) g`,
    [t.id],
  );
  await owner.query('ANALYZE users; ANALYZE groups');
  await owner.end();
  app = new pg.Client({ connectionString: svc.database.url });
  await app.connect();
  await app.query('SET ROLE lanyard_app');
});
afterAll(async () => {
  await app.end();
  await svc.close();
});

async function plan(table: 'users' | 'groups', filter: string, sortBy?: string): Promise<string> {
  const catalog = table === 'users' ? resourceCatalogs().user : resourceCatalogs().group;
  const params = new SqlParams([t.id]);
  const where = filterToSql(parseFilter(filter), catalog, params);
  const order = sortBy ? sortToSql(sortBy, catalog) : 'r.seq';
  await app.query('BEGIN');
  try {
    await app.query(`SELECT set_config('lanyard.tenant_id', $1, true)`, [t.id]);
    const { rows } = await app.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT r.seq FROM ${table} r WHERE r.tenant_id = $1 AND ${where} ORDER BY ${order} LIMIT 100`,
      params.values,
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await app.query('ROLLBACK');
  }
}

describe('query plans under row-level security', () => {
  it('finds a user by userName (any case) through the unique index', async () => {
    const text = await plan('users', 'userName eq "USER42@plans.example"');
    expect(text).toContain('users_user_name_key');
    expect(text).not.toContain('Seq Scan');
  });

  it('finds a group by displayName (any case) through the unique index', async () => {
    const text = await plan('groups', 'displayName eq "group 7"');
    expect(text).toContain('groups_display_name_key');
    expect(text).not.toContain('Seq Scan');
  });

  it('finds users by externalId through its index', async () => {
    const text = await plan('users', 'externalId eq "abc"');
    expect(text).toContain('users_external_id');
  });

  it('sorts by userName from the index', async () => {
    const text = await plan('users', 'active eq true', 'userName');
    expect(text).toContain('users_user_name_key');
  });
});
