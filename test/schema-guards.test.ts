import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.js';

/** Guards over the whole schema, so a table added later cannot quietly skip the rules the design relies on. */
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await db.drop();
});

describe('schema', () => {
  it('forces row-level security on every table that has a tenant_id', async () => {
    const { rows } = await client.query<{ table: string; rls: boolean; forced: boolean; policies: number }>(
      `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      // The one exception, named here so no other can slip in: which tenants an MSP operator key may
      // administer is the MSP's record, read before any tenant is known, not a tenant's data.
      if (row.table === 'operator_key_tenants') continue;
      expect(row, row.table).toMatchObject({ rls: true, forced: true, policies: 1 });
    }
  });

  it('lets the service role neither delete nor change audit events, nor delete grants', async () => {
    const { rows } = await client.query<{ table: string; privilege: string }>(
      `SELECT table_name AS table, privilege_type AS privilege FROM information_schema.role_table_grants
        WHERE grantee = 'lanyard_app' AND table_name IN ('audit_events', 'grants')`,
    );
    const of = (table: string) => rows.filter((r) => r.table === table).map((r) => r.privilege).sort();
    expect(of('audit_events')).toEqual(['INSERT', 'SELECT']);
    expect(of('grants')).toEqual(['INSERT', 'SELECT', 'UPDATE']);
  });
});
