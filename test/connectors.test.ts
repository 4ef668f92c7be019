import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorService } from '../src/provisioning/connector-service.js';
import { databaseUrl, withAdmin } from './helpers/databases.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

const tag = randomBytes(4).toString('hex');
const role = `crm_reader_${tag}`;
const PASSWORD = `pw-${tag}-Secret`;

let svc: TestService;
let t: TestTenant;

/** The downstream is the test's own database; trust auth ignores the password, which is there to be kept secret. */
function warehouseUrl(): string {
  const url = new URL(databaseUrl(svc.database.name));
  url.password = PASSWORD;
  return url.toString();
}

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
  await withAdmin((c) => c.query(`CREATE ROLE ${role} NOLOGIN`));
});
afterAll(async () => {
  await svc.close();
  await withAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
});

describe('connectors of a tenant', () => {
  it('stores the configuration with its secrets sealed, and never shows them', async () => {
    const added = await svc.runtime.connectors.add(t.slug, { name: 'warehouse-pg', kind: 'postgres', config: { url: warehouseUrl(), grantableRoles: [role] } }, 'operator:test');
    expect(added.config).toEqual({ url: '[encrypted]', rolePrefix: 'lanyard_', grantableRoles: [role], terminateSessions: true });
    const rows = await svc.sql<{ config: unknown; secrets: { keyId: string }; secret_paths: string[] }>('SELECT config, secrets, secret_paths FROM connectors');
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(rows[0]!.secret_paths).toEqual(['url']);
    expect(rows[0]!.secrets.keyId).toMatch(/^[0-9a-f]{12}$/);
    const events = await svc.sql<{ entry: string }>("SELECT entry FROM audit_events WHERE action = 'connector.added'");
    expect(events).toHaveLength(1);
    expect(events[0]!.entry).not.toContain(PASSWORD);
    expect(JSON.stringify(await svc.runtime.connectors.list(t.slug))).not.toContain(PASSWORD);
  });

  it('tests the connection and lists what it can grant, through the sealed secrets', async () => {
    await expect(svc.runtime.connectors.test(t.slug, 'warehouse-pg')).resolves.toBeUndefined();
    expect(await svc.runtime.connectors.entitlements(t.slug, 'warehouse-pg')).toEqual([{ id: `role:${role}` }]);
  });

  it('cannot open the secrets with another master key, and says so plainly', async () => {
    const other = new ConnectorService(svc.runtime.pool, randomBytes(32), pino({ level: 'silent' }));
    await expect(other.test(t.slug, 'warehouse-pg')).rejects.toThrow(/sealed with master key [0-9a-f]{12}, not the current one/);
  });

  it('refuses a bad configuration naming the path, never the value', async () => {
    const refused = svc.runtime.connectors.add(t.slug, { name: 'bad', kind: 'postgres', config: { url: `mysql://u:${PASSWORD}@h/x`, rolePrefix: 'Bad Prefix' } }, 'op');
    await expect(refused).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/config\.url: expected a postgres:\/\/ URL[\s\S]*config\.rolePrefix:/) });
    await expect(refused).rejects.not.toMatchObject({ message: expect.stringContaining(PASSWORD) });
    await expect(svc.runtime.connectors.add(t.slug, { name: 'x', kind: 'oracle', config: {} }, 'op')).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('postgres') });
    await expect(svc.runtime.connectors.add(t.slug, { name: 'warehouse-pg', kind: 'postgres', config: { url: warehouseUrl() } }, 'op')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reports a connection that fails as a connector error with its code', async () => {
    const url = new URL(databaseUrl(svc.database.name));
    url.port = '1';
    await svc.runtime.connectors.add(t.slug, { name: 'unreachable', kind: 'postgres', config: { url: url.toString() } }, 'op');
    await expect(svc.runtime.connectors.test(t.slug, 'unreachable')).rejects.toMatchObject({ message: expect.stringContaining('unavailable') });
  });

  it('keeps tenants apart: another tenant sees none of these connectors', async () => {
    const other = await svc.tenant();
    expect(await svc.runtime.connectors.list(other.slug)).toEqual([]);
    await expect(svc.runtime.connectors.test(other.slug, 'warehouse-pg')).rejects.toMatchObject({ code: 'not_found' });
  });
});
