import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS } from '../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

const EXAMPLE = readFileSync(new URL('../config/globex-partners.policy.yaml', import.meta.url), 'utf8');

let svc: TestService;
let t: TestTenant;
let other: TestTenant;

async function user(tenant: TestTenant, userName: string, intake: Record<string, string> | null, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await svc.http
    .post(`${tenant.path}/Users`)
    .set(tenant.auth)
    .send({ schemas: [CORE_USER, LANYARD_ACCESS], userName, active: true, ...(intake ? { [LANYARD_ACCESS]: intake } : {}), ...extra });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function group(tenant: TestTenant, displayName: string, members: string[]): Promise<void> {
  const res = await svc.http.post(`${tenant.path}/Groups`).set(tenant.auth).send({ schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })) });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
  other = await svc.tenant();
  const intake = { sponsor: 'ada@acme.example', accessEndDate: '2099-01-01T00:00:00Z' };
  const analyst = await user(t, 'analyst@globex.example', { ...intake, organization: 'Globex' });
  const seller = await user(t, 'seller@globex.example', intake, { [ENTERPRISE_USER]: { organization: 'Globex' } });
  const outsider = await user(t, 'seller@initech.example', { ...intake, organization: 'Initech' });
  const incomplete = await user(t, 'new@globex.example', { organization: 'Globex' });
  await group(t, 'Partner Analysts', [analyst, incomplete]);
  await group(t, 'Partner Sales', [seller, outsider]);
  // The other tenant has a group of the same name, which this tenant's policy must never see.
  const stranger = await user(other, 'stranger@umbrella.example', { ...intake, organization: 'Globex' });
  await group(other, 'Partner Analysts', [stranger]);
});
afterAll(() => svc.close());

describe('policy plan', () => {
  it('reports per package and per user what would be granted, and who is quarantined for what', async () => {
    const plan = await svc.runtime.policies.plan(t.slug, EXAMPLE, new Date('2026-11-22T00:00:00Z'));
    expect(plan.users).toBe(4);
    expect(plan.quarantined).toBe(1);
    expect(plan.byPackage).toEqual({ 'warehouse-analyst': { grant: 1, revoke: 0 }, 'crm-viewer': { grant: 1, revoke: 0 } });
    expect(plan.changes).toEqual([
      {
        userName: 'analyst@globex.example',
        status: 'eligible',
        grant: [{ connector: 'warehouse-pg', entitlement: 'role:analyst_ro', packages: ['warehouse-analyst'], approval: false }],
        revoke: [],
      },
      // organization mapped from the enterprise extension, as the example policy says.
      {
        userName: 'seller@globex.example',
        status: 'eligible',
        grant: [{ connector: 'crm', entitlement: 'group:Viewers', packages: ['crm-viewer'], approval: true }],
        revoke: [],
      },
      { userName: 'new@globex.example', status: 'quarantined', missing: ['sponsor', 'accessEndDate'], grant: [], revoke: [] },
    ]);
  });

  it('changes nothing', async () => {
    await svc.runtime.policies.plan(t.slug, EXAMPLE);
    const counts = await svc.sql<{ grants: number; versions: number }>(
      'SELECT (SELECT count(*)::int FROM grants) AS grants, (SELECT count(*)::int FROM policy_versions) AS versions',
    );
    expect(counts[0]).toEqual({ grants: 0, versions: 0 });
  });

  it('only ever sees its own tenant', async () => {
    const plan = await svc.runtime.policies.plan(other.slug, EXAMPLE);
    expect(plan.users).toBe(1);
    expect(plan.changes.map((c) => c.userName)).toEqual(['stranger@umbrella.example']);
  });
});

describe('policy apply and show', () => {
  it('stores each version with its source, who applied it and when, and audits it', async () => {
    expect(await svc.runtime.policies.show(t.slug)).toBeNull();
    const first = await svc.runtime.policies.apply(t.slug, EXAMPLE, 'operator:alice');
    const second = await svc.runtime.policies.apply(t.slug, EXAMPLE.replace('P90D', 'P60D'), 'operator:bob');
    expect([first.version, second.version]).toEqual([1, 2]);
    const current = await svc.runtime.policies.show(t.slug);
    expect(current).toMatchObject({ version: 2, appliedBy: 'operator:bob' });
    expect(current!.source).toContain('P60D');
    expect(await svc.runtime.policies.show(other.slug)).toBeNull();

    const events = await svc.sql<{ actor: string; resource_id: string }>(
      "SELECT actor, resource_id FROM audit_events WHERE tenant_id = $1 AND action = 'policy.applied' ORDER BY seq",
      [t.id],
    );
    expect(events).toEqual([
      { actor: 'operator:alice', resource_id: '1' },
      { actor: 'operator:bob', resource_id: '2' },
    ]);
  });

  it('refuses an invalid policy, naming every problem, and stores nothing', async () => {
    const bad = EXAMPLE.replace('grant: [crm-viewer]', 'grant: [crm-admin]');
    await expect(svc.runtime.policies.apply(t.slug, bad, 'operator:alice')).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('rules[1].grant[0]: unknown access package "crm-admin"'),
    });
    expect((await svc.runtime.policies.show(t.slug))!.version).toBe(2);
  });
});
