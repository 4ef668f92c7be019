import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
import { createDownstreamPostgres, type DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { type DownstreamApp, type DownstreamScim, startDownstreamScim } from '../helpers/downstream-scim.js';
import { eventually } from '../helpers/eventually.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * The whole path as the IdPs drive it: Okta-style pushes into tenant A, Entra-style into tenant B; one
 * group leads to a role in a real PostgreSQL database, another to a group in a real SCIM application.
 * Deactivation and group removal take the access away downstream, and neither tenant's policy ever
 * touches the other tenant.
 */
let svc: TestService;
let warehouse: DownstreamPostgres;
let saas: DownstreamScim;
let crm: DownstreamApp;
let okta: TestTenant;
let entra: TestTenant;

const intake = { organization: 'Globex', sponsor: 'ada@acme.example', accessEndDate: '2099-12-31T00:00:00Z' };

beforeAll(async () => {
  warehouse = await createDownstreamPostgres(['analyst']);
  saas = await startDownstreamScim();
  crm = await saas.app('crm', ['Viewers', 'Editors']);
  svc = await startTestService({}, { workers: true });
  okta = await svc.tenant();
  entra = await svc.tenant();
  // Both tenants can reach both downstreams; only their policies decide what each grants.
  for (const t of [okta, entra]) {
    await svc.runtime.connectors.add(t.slug, { name: 'warehouse', kind: 'postgres', config: warehouse.config }, 'operator:test');
    // Tenant B keeps downstream accounts when the IdP deletes a user; tenant A's connectors remove them.
    await svc.runtime.connectors.add(t.slug, { name: 'crm', kind: 'scim', config: crm.config, onDelete: t === entra ? 'disable' : 'remove' }, 'operator:test');
  }
  await svc.runtime.policies.apply(
    okta.slug,
    `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  warehouse-analyst:
    entitlements: { warehouse: ['role:${warehouse.roles['analyst']}'] }
    maxDuration: P90D
rules:
  - when: { group: Warehouse Analysts }
    grant: [warehouse-analyst]
`,
    'operator:test',
  );
  await svc.runtime.policies.apply(
    entra.slug,
    `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
  from:
    organization: ${ENTERPRISE_USER}:organization
packages:
  crm-viewer:
    entitlements: { crm: ['group:Viewers'] }
    maxDuration: P180D
rules:
  - when: { group: { externalId: 9c1d2e3f-crm-viewers } }
    grant: [crm-viewer]
`,
    'operator:test',
  );
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await saas?.close();
  await warehouse?.drop();
});

async function send(t: TestTenant, method: 'post' | 'patch', path: string, body: unknown): Promise<{ id?: string }> {
  const res = await svc.http[method](`${t.path}${path}`).set(t.auth).set('Content-Type', 'application/scim+json').send(body as object);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body as { id?: string };
}

describe('end to end', () => {
  it('provisions both tenants into real downstreams and takes access away on deactivation and group removal', async () => {
    // Okta: users first, then the pushed group, then membership PATCHes with `add` and a filtered `remove`.
    const oktaUser = (userName: string) =>
      send(okta, 'post', '/Users', {
        schemas: [CORE_USER, LANYARD_ACCESS],
        userName,
        name: { givenName: 'Pat', familyName: 'Lee' },
        emails: [{ primary: true, value: userName, type: 'work' }],
        active: true,
        [LANYARD_ACCESS]: intake,
      });
    const pat = (await oktaUser('pat.lee@globex.example')).id!;
    const sam = (await oktaUser('sam.roe@globex.example')).id!;
    const analysts = (await send(okta, 'post', '/Groups', { schemas: [CORE_GROUP], displayName: 'Warehouse Analysts', members: [] })).id!;
    await send(okta, 'patch', `/Groups/${analysts}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: pat }, { value: sam }] }] });

    // Entra: externalIds, the enterprise extension carrying the organisation, capitalised ops, "False".
    const entraUser = (userName: string, externalId: string) =>
      send(entra, 'post', '/Users', {
        schemas: [CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS],
        externalId,
        userName,
        active: true,
        displayName: userName.split('@')[0],
        emails: [{ primary: true, type: 'work', value: userName }],
        [ENTERPRISE_USER]: { organization: 'Globex', department: 'Sales' },
        [LANYARD_ACCESS]: { sponsor: intake.sponsor, accessEndDate: intake.accessEndDate },
      });
    const kim = (await entraUser('kim.wu@umbrella.example', 'e-kim')).id!;
    const lou = (await entraUser('lou.ng@umbrella.example', 'e-lou')).id!;
    const viewers = (await send(entra, 'post', '/Groups', { schemas: [CORE_GROUP], externalId: '9c1d2e3f-crm-viewers', displayName: 'CRM Viewers', members: [] })).id!;
    await send(entra, 'patch', `/Groups/${viewers}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: kim }, { value: lou }] }] });
    // Tenant B also has a group named like tenant A's: A's policy must never see it.
    const lookalike = (await send(entra, 'post', '/Groups', { schemas: [CORE_GROUP], displayName: 'Warehouse Analysts', members: [{ value: kim }] })).id!;
    expect(lookalike).toBeDefined();

    const login = (id: string, userName: string) => warehouse.login(id, userName);

    await eventually(async () => {
      expect(await login(pat, 'pat.lee@globex.example')).toMatchObject({ enabled: true, grants: [warehouse.roles['analyst']] });
      expect(await login(sam, 'sam.roe@globex.example')).toMatchObject({ enabled: true, grants: [warehouse.roles['analyst']] });
      expect(await crm.user(kim)).toEqual({ active: true, groups: ['Viewers'] });
      expect(await crm.user(lou)).toEqual({ active: true, groups: ['Viewers'] });
    }, { timeoutMs: 30_000 });

    // Deactivation (Okta) and group removal (Entra).
    await send(okta, 'patch', `/Users/${pat}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    await send(entra, 'patch', `/Groups/${viewers}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: lou }] }] });
    // And an Entra deactivation, as Entra sends it.
    await send(entra, 'patch', `/Users/${kim}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });

    await eventually(async () => {
      expect(await login(pat, 'pat.lee@globex.example')).toMatchObject({ enabled: false, grants: [] });
      expect(await login(sam, 'sam.roe@globex.example')).toMatchObject({ enabled: true, grants: [warehouse.roles['analyst']] });
      // Removed from the only group that asked for the CRM: no entitlement left, so the account is disabled.
      expect(await crm.user(lou)).toEqual({ active: false, groups: [] });
      expect(await crm.user(kim)).toEqual({ active: false, groups: [] });
    }, { timeoutMs: 30_000 });

    // Deletion: tenant A's warehouse connector removes the login role; tenant B's CRM keeps the account,
    // disabled, because that connector was added with --on-delete disable.
    const max = (await entraUser('max.ito@umbrella.example', 'e-max')).id!;
    await send(entra, 'patch', `/Groups/${viewers}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: max }] }] });
    await eventually(async () => expect(await crm.user(max)).toEqual({ active: true, groups: ['Viewers'] }));
    expect((await svc.http.delete(`${entra.path}/Users/${max}`).set(entra.auth)).status).toBe(204);
    expect((await svc.http.delete(`${okta.path}/Users/${sam}`).set(okta.auth)).status).toBe(204);
    await eventually(async () => {
      expect(await crm.user(max)).toEqual({ active: false, groups: [] });
      expect(await login(sam, 'sam.roe@globex.example')).toBeUndefined();
    }, { timeoutMs: 30_000 });

    // Isolation: tenant B's users never got a warehouse role, tenant A's never a CRM account, and every
    // grant row belongs to its own tenant's users.
    expect(await login(kim, 'kim.wu@umbrella.example')).toBeUndefined();
    expect(await crm.user(pat)).toBeNull();
    const grants = await svc.sql<{ tenant_id: string; user_id: string; connector: string }>('SELECT tenant_id, user_id, connector FROM grants WHERE tenant_id = ANY($1::uuid[])', [[okta.id, entra.id]]);
    for (const g of grants) {
      if (g.tenant_id === okta.id) expect([pat, sam]).toContain(g.user_id);
      else expect([kim, lou, max]).toContain(g.user_id);
      expect(g.connector).toBe(g.tenant_id === okta.id ? 'warehouse' : 'crm');
    }
    expect(grants).toHaveLength(5);
  });
});
