import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/admin/admin-routes.js';
import { type DownstreamApp, type DownstreamScim, startDownstreamScim } from '../helpers/downstream-scim.js';
import { eventually } from '../helpers/eventually.js';
import { grantsOf, idp } from '../helpers/provisioning-tenant.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * Every operation of /admin/v1 against the real service (PostgreSQL, Redis, workers) and a real downstream
 * SCIM application. Each request goes through `call`, which notes the operation; the last test checks that
 * every operation the API serves was exercised here.
 */
let svc: TestService;
let downstream: DownstreamScim;
let crm: DownstreamApp;
let acme: TestTenant;
let scim: ReturnType<typeof idp>;
/** An msp-admin key named `ops`, which the policy below also lists as an MSP approver. */
let ops: { Authorization: string };
let acmeAdmin: { Authorization: string };
let auditor: { Authorization: string };

const routes = adminRoutes();
const exercised = new Set<string>();

type Method = 'get' | 'post' | 'put' | 'delete';

/** A request to the operation `operationId`, whose method and path template must match the route's. */
function call(operationId: string, method: Method, path: string, auth: { Authorization: string } = ops) {
  const r = routes.find((x) => x.operationId === operationId);
  if (!r) throw new Error(`no operation ${operationId}`);
  const template = new RegExp(`^${r.path.replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`);
  if (r.method !== method || !template.test(path.split('?')[0]!)) throw new Error(`${method} ${path} is not ${operationId} (${r.method} ${r.path})`);
  exercised.add(operationId);
  return svc.http[method](`/admin/v1${path}`).set(auth);
}

function expectProblem(res: supertest.Response, status: number, code: string, detail?: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `urn:lanyard:problem:${code}`, status, code });
  if (detail) expect(res.body.detail).toMatch(detail);
}

const POLICY = (extra = '') => `version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  viewer:
    description: Read the CRM
    entitlements:
      crm: [group:Viewers]
    maxDuration: P30D
  loader:
    entitlements:
      crm: [group:Loaders]
    maxDuration: P30D
    approval: required
approvals:
  approvers: [msp]
  mspApprovers: [ops]
  deadline: P3D
emergency:
  packages: [loader]
  maxDuration: PT4H
brake:
  minimum: 2
  percent: 1
rules:
  - when: { group: Partners }
    grant: [viewer]
  - when: { group: Loaders }
    grant: [loader]
${extra}`;

async function key(name: string, role: string, tenants?: string[]): Promise<{ Authorization: string }> {
  const { key } = await svc.runtime.operatorKeys.create({ name, role, tenants }, 'operator:test');
  return { Authorization: `Bearer ${key}` };
}

async function auditOf(tenantId: string, action: string) {
  return svc.sql<{ actor: string; resource_id: string | null }>('SELECT actor, resource_id FROM audit_events WHERE tenant_id = $1 AND action = $2 ORDER BY seq', [tenantId, action]);
}

beforeAll(async () => {
  downstream = await startDownstreamScim();
  crm = await downstream.app('crm', ['Viewers', 'Loaders']);
  svc = await startTestService({ JOB_ATTEMPTS: '1', SWEEP_INTERVAL: '1s', SWEEP_GRACE: '1s' }, { workers: true });
  ops = await key('ops', 'msp-admin');
  auditor = await key('auditor', 'auditor');
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await downstream?.close();
});

describe('tenants', () => {
  it('creates a tenant, recorded in its audit trail under the operator, and refuses a duplicate or a bad slug by path', async () => {
    const created = await call('createTenant', 'post', '/tenants').send({ slug: 'acme', name: 'Acme Corp' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      slug: 'acme',
      name: 'Acme Corp',
      status: 'active',
      contractEndsAt: null,
      createdAt: expect.any(String),
      scimBaseUrl: 'https://lanyard.test/scim/v2/acme',
    });
    expect(await auditOf(created.body.id, 'tenant.created')).toEqual([{ actor: 'operator:key:ops', resource_id: created.body.id }]);

    expectProblem(await call('createTenant', 'post', '/tenants').send({ slug: 'acme' }), 409, 'conflict');
    const bad = await call('createTenant', 'post', '/tenants').send({ slug: 'A!', extra: 1 });
    expectProblem(bad, 400, 'invalid_request');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body', 'body.slug']);

    const token = await svc.runtime.tokens.issue('acme', {}, 'operator:test');
    acme = { slug: 'acme', id: created.body.id, token: token.token, tokenId: token.id, path: '/scim/v2/acme', auth: { Authorization: `Bearer ${token.token}` } };
    scim = idp(svc, acme);
    acmeAdmin = await key('acme-admin', 'tenant-admin', ['acme']);
  });

  it('lists tenants a page at a time, and a tenant-admin sees only its own', async () => {
    for (const slug of ['globex', 'initech']) expect((await call('createTenant', 'post', '/tenants').send({ slug })).status).toBe(201);
    const first = await call('listTenants', 'get', '/tenants?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((t: { slug: string }) => t.slug)).toEqual(['acme', 'globex']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call('listTenants', 'get', `/tenants?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ slug: 'initech' })], nextCursor: null });
    expectProblem(await call('listTenants', 'get', '/tenants?cursor=bm90LWEtY3Vyc29y'), 400, 'invalid_input', /cursor/);

    const own = await call('listTenants', 'get', '/tenants', acmeAdmin);
    expect(own.body.items.map((t: { slug: string }) => t.slug)).toEqual(['acme']);
  });

  it('shows a tenant, and answers 404 for one that does not exist', async () => {
    const shown = await call('getTenant', 'get', '/tenants/acme', auditor);
    expect(shown.body).toMatchObject({ slug: 'acme', name: 'Acme Corp' });
    expectProblem(await call('getTenant', 'get', '/tenants/nowhere'), 404, 'not_found');
  });

  it('suspends a tenant (its IdP is refused with 403) and resumes it', async () => {
    const suspended = await call('suspendTenant', 'post', '/tenants/acme/suspend');
    expect(suspended.body.status).toBe('suspended');
    expect((await svc.http.get(`${acme.path}/Users`).set(acme.auth)).status).toBe(403);
    expect((await call('resumeTenant', 'post', '/tenants/acme/resume')).body.status).toBe('active');
    expect((await svc.http.get(`${acme.path}/Users`).set(acme.auth)).status).toBe(200);
  });

  it('sets and clears the contract end', async () => {
    const set = await call('setContractEnd', 'put', '/tenants/globex/contract-end').send({ contractEnd: '2099-06-30' });
    expect(set.body.contractEndsAt).toBe('2099-06-30T00:00:00.000Z');
    expectProblem(await call('setContractEnd', 'put', '/tenants/globex/contract-end').send({ contractEnd: 'soon' }), 400, 'invalid_request', /body\.contractEnd/);
    expect((await call('setContractEnd', 'put', '/tenants/globex/contract-end').send({ contractEnd: null })).body.contractEndsAt).toBeNull();
  });
});

describe('SCIM tokens', () => {
  it('issues a token shown once, lists tokens without their secret, and revokes one', async () => {
    const issued = await call('issueScimToken', 'post', '/tenants/globex/tokens').send({ ttlDays: 10 });
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^lanyard_/);
    expect((await svc.http.get('/scim/v2/globex/Users').set({ Authorization: `Bearer ${issued.body.token}` })).status).toBe(200);

    const listed = await call('listScimTokens', 'get', '/tenants/globex/tokens');
    expect(listed.body.items).toEqual([expect.objectContaining({ id: issued.body.id, state: 'active', createdBy: 'operator:key:ops', lastUsedAt: expect.any(String) })]);
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.token);

    expect((await call('revokeScimToken', 'delete', `/tenants/globex/tokens/${issued.body.id}`)).body).toEqual({ id: issued.body.id, outcome: 'revoked' });
    expect((await svc.http.get('/scim/v2/globex/Users').set({ Authorization: `Bearer ${issued.body.token}` })).status).toBe(401);
    expect((await call('revokeScimToken', 'delete', `/tenants/globex/tokens/${issued.body.id}`)).body.outcome).toBe('already_revoked');
    expectProblem(await call('revokeScimToken', 'delete', '/tenants/globex/tokens/nope'), 404, 'not_found');
  });
});

describe('connectors and policy', () => {
  it('adds a connector with its secret masked, lists, tests and reads its entitlements', async () => {
    const added = await call('addConnector', 'post', '/tenants/acme/connectors', acmeAdmin).send({ name: 'crm', kind: 'scim', config: crm.config });
    expect(added.status).toBe(201);
    expect(added.body.config).toEqual({ baseUrl: crm.config.baseUrl, auth: { type: 'bearer', token: '[encrypted]' }, timeoutMs: 10_000 });
    expect(JSON.stringify(added.body)).not.toContain(crm.config.auth.token);
    expect((await call('listConnectors', 'get', '/tenants/acme/connectors', acmeAdmin)).body.items.map((c: { name: string }) => c.name)).toEqual(['crm']);

    expect((await call('testConnector', 'post', '/tenants/acme/connectors/crm/test', acmeAdmin)).body).toEqual({ ok: true });
    crm.fault = { status: 503, times: 1 };
    const failing = await call('testConnector', 'post', '/tenants/acme/connectors/crm/test', acmeAdmin);
    expect(failing.status).toBe(200);
    expect(failing.body).toMatchObject({ ok: false, code: 'unavailable' });
    crm.fault = undefined;

    const entitlements = await call('listEntitlements', 'get', '/tenants/acme/connectors/crm/entitlements', auditor);
    expect(entitlements.body.items.map((e: { id: string }) => e.id)).toEqual(['group:Loaders', 'group:Viewers']);
    expectProblem(await call('listEntitlements', 'get', '/tenants/acme/connectors/nope/entitlements'), 404, 'not_found');
  });

  it('validates a policy, naming each problem by its path', async () => {
    const good = await call('validatePolicy', 'post', '/policy/validate', auditor).send({ source: POLICY() });
    expect(good.body).toEqual({ valid: true, packages: ['viewer', 'loader'], rules: 2 });
    const bad = await call('validatePolicy', 'post', '/policy/validate').set('Content-Type', 'application/yaml').send('version: 1\npackages:\n  x:\n    entitlements: {}\n    maxDuration: forever\n');
    expect(bad.body.valid).toBe(false);
    expect(bad.body.problems).toContainEqual(expect.objectContaining({ path: 'packages.x.maxDuration' }));
  });

  it('plans, applies (JSON or YAML body), shows and lists policy versions', async () => {
    const plan = await call('planPolicy', 'post', '/tenants/acme/policy/plan', acmeAdmin).send({ source: POLICY() });
    expect(plan.body).toMatchObject({ users: 0, quarantined: 0, changes: [] });

    const v1 = await call('applyPolicy', 'put', '/tenants/acme/policy', acmeAdmin).set('Content-Type', 'application/yaml').send(POLICY());
    expect(v1.body).toEqual({ version: 1, appliedBy: 'operator:key:acme-admin', appliedAt: expect.any(String) });
    const v2 = await call('applyPolicy', 'put', '/tenants/acme/policy', acmeAdmin).send({ source: POLICY('# v2\n') });
    expect(v2.body.version).toBe(2);
    expectProblem(await call('applyPolicy', 'put', '/tenants/acme/policy').send({ source: 'version: 2' }), 400, 'invalid_input', /not valid/);

    const shown = await call('getPolicy', 'get', '/tenants/acme/policy', auditor);
    expect(shown.body).toMatchObject({ version: 2, source: POLICY('# v2\n') });
    expectProblem(await call('getPolicy', 'get', '/tenants/globex/policy'), 404, 'not_found');

    const page1 = await call('listPolicyVersions', 'get', '/tenants/acme/policy/versions?limit=1');
    expect(page1.body.items.map((v: { version: number }) => v.version)).toEqual([2]);
    const page2 = await call('listPolicyVersions', 'get', `/tenants/acme/policy/versions?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body).toEqual({ items: [expect.objectContaining({ version: 1 })], nextCursor: null });
  });

  it('removes only a connector that holds nothing and that the policy does not use', async () => {
    await call('addConnector', 'post', '/tenants/acme/connectors').send({ name: 'spare', kind: 'scim', config: crm.config });
    expect((await call('removeConnector', 'delete', '/tenants/acme/connectors/spare')).body).toEqual({ name: 'spare', removed: true });
    expect(await auditOf(acme.id, 'connector.removed')).toEqual([{ actor: 'operator:key:ops', resource_id: 'spare' }]);
    expectProblem(await call('removeConnector', 'delete', '/tenants/acme/connectors/crm'), 409, 'conflict', /used by the policy/);
    expectProblem(await call('removeConnector', 'delete', '/tenants/acme/connectors/spare'), 404, 'not_found');
  });
});

describe('directory, grants and decisions', () => {
  let alice: string;
  let bob: string;
  let carol: string;
  let partners: string;

  it('reads users and groups as the IdP pushed them', async () => {
    alice = await scim.createUser('alice@acme.example');
    bob = await scim.createUser('bob@acme.example');
    carol = await scim.createUser('carol@acme.example');
    partners = await scim.createGroup('Partners', [alice, bob, carol]);

    const users = await call('listUsers', 'get', '/tenants/acme/users?limit=2', acmeAdmin);
    expect(users.body.items.map((u: { userName: string }) => u.userName)).toEqual(['alice@acme.example', 'bob@acme.example']);
    const rest = await call('listUsers', 'get', `/tenants/acme/users?limit=2&cursor=${users.body.nextCursor}`, acmeAdmin);
    expect(rest.body.items.map((u: { userName: string }) => u.userName)).toEqual(['carol@acme.example']);
    const found = await call('listUsers', 'get', '/tenants/acme/users?userName=ALICE@acme.example');
    expect(found.body.items).toEqual([expect.objectContaining({ id: alice, active: true, groups: [{ groupId: partners, displayName: 'Partners' }] })]);

    const one = await call('getUser', 'get', `/tenants/acme/users/${bob}`, acmeAdmin);
    expect(one.body).toMatchObject({ id: bob, userName: 'bob@acme.example', attributes: expect.objectContaining({ userName: 'bob@acme.example' }) });
    expectProblem(await call('getUser', 'get', `/tenants/globex/users/${bob}`), 404, 'not_found');

    expect((await call('listGroups', 'get', '/tenants/acme/groups')).body.items).toEqual([expect.objectContaining({ id: partners, displayName: 'Partners', members: 3 })]);
    const group = await call('getGroup', 'get', `/tenants/acme/groups/${partners}`);
    expect(group.body.memberList.map((m: { userName: string }) => m.userName)).toEqual(['alice@acme.example', 'bob@acme.example', 'carol@acme.example']);
  });

  it('lists grants filtered by state, user, package and connector, a page at a time', async () => {
    await eventually(async () => expect((await grantsOf(svc, acme)).map((g) => g.state)).toEqual(['active', 'active', 'active']));
    const page = await call('listGrants', 'get', '/tenants/acme/grants?state=active&package=viewer&connector=crm&limit=2', auditor);
    expect(page.body.items).toHaveLength(2);
    const next = await call('listGrants', 'get', `/tenants/acme/grants?state=active&package=viewer&limit=2&cursor=${page.body.nextCursor}`, auditor);
    expect(next.body.items).toHaveLength(1);
    expect(new Set([...page.body.items, ...next.body.items].map((g: { userName: string }) => g.userName)).size).toBe(3);
    const bobs = await call('listGrants', 'get', '/tenants/acme/grants?user=BOB@acme.example', auditor);
    expect(bobs.body.items).toEqual([expect.objectContaining({ userId: bob, entitlement: 'group:Viewers', state: 'active', reasons: [expect.objectContaining({ package: 'viewer' })] })]);
    expect((await call('listGrants', 'get', '/tenants/acme/grants?package=loader', auditor)).body.items).toEqual([]);
    expectProblem(await call('listGrants', 'get', '/tenants/acme/grants?state=bogus'), 400, 'invalid_request', /query\.state/);
  });

  it('approves and denies requests as the signed-in operator, who must be one of the approvers', async () => {
    const loaders = await scim.createGroup('Loaders', [alice, bob]);
    expect(loaders).toBeTruthy();
    const pending = await eventually(async () => {
      const res = await call('listApprovals', 'get', '/tenants/acme/approvals?pending=true', acmeAdmin);
      expect(res.body.items).toHaveLength(2);
      return res.body.items as { id: string; userId: string; approvers: { msp: string[] } }[];
    });
    expect(pending[0]!.approvers.msp).toEqual(['ops']);
    const first = await call('listApprovals', 'get', '/tenants/acme/approvals?limit=1', acmeAdmin);
    const second = await call('listApprovals', 'get', `/tenants/acme/approvals?limit=1&cursor=${first.body.nextCursor}`, acmeAdmin);
    expect([first.body.items[0].id, second.body.items[0].id].sort()).toEqual(pending.map((p) => p.id).sort());
    expect(second.body.nextCursor).toBeNull();
    const forged = Buffer.from(JSON.stringify(['not a time', alice])).toString('base64url');
    expectProblem(await call('listApprovals', 'get', `/tenants/acme/approvals?cursor=${forged}`, acmeAdmin), 400, 'invalid_input', /cursor/);
    const forAlice = pending.find((p) => p.userId === alice)!;
    const forBob = pending.find((p) => p.userId === bob)!;

    // The tenant-admin key is not an approver of these requests; another tenant's path does not reach them.
    expectProblem(await call('approveApproval', 'post', `/tenants/acme/approvals/${forAlice.id}/approve`, acmeAdmin).send({}), 403, 'forbidden');
    expectProblem(await call('approveApproval', 'post', `/tenants/globex/approvals/${forAlice.id}/approve`).send({}), 404, 'not_found');
    expectProblem(await call('denyApproval', 'post', `/tenants/acme/approvals/${forBob.id}/deny`).send({}), 400, 'invalid_request', /body\.reason/);

    const approved = await call('approveApproval', 'post', `/tenants/acme/approvals/${forAlice.id}/approve`).send({ reason: 'needs the loaders' });
    expect(approved.body).toMatchObject({ id: forAlice.id, state: 'approved', decidedBy: 'ops', decisionReason: 'needs the loaders' });
    const denied = await call('denyApproval', 'post', `/tenants/acme/approvals/${forBob.id}/deny`).send({ reason: 'not needed' });
    expect(denied.body).toMatchObject({ state: 'denied', decidedBy: 'ops' });
    await eventually(async () => expect(await crm.user(alice)).toEqual({ active: true, groups: expect.arrayContaining(['Loaders', 'Viewers']) }));
    expect((await crm.user(bob))?.groups).toEqual(['Viewers']);
  });

  it('grants emergency access with a reason, and lists it for review', async () => {
    const granted = await call('grantException', 'post', '/tenants/acme/exceptions', acmeAdmin).send({ userName: 'carol@acme.example', package: 'loader', reason: 'incident 42', hours: 2 });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ userId: carol, package: 'loader', grantedBy: 'key:acme-admin', reason: 'incident 42', active: true });
    expectProblem(await call('grantException', 'post', '/tenants/acme/exceptions').send({ userName: 'carol@acme.example', package: 'viewer', reason: 'x' }), 403, 'forbidden');
    const listed = await call('listExceptions', 'get', '/tenants/acme/exceptions?active=true', auditor);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: granted.body.id })]);
    await eventually(async () => expect((await crm.user(carol))?.groups).toEqual(expect.arrayContaining(['Loaders'])));
  });

  it('lists the holds of the brake, releases one and rejects the rest', async () => {
    const extra = await Promise.all(['dan', 'erin', 'frank', 'grace'].map((n) => scim.createUser(`${n}@acme.example`)));
    await scim.members(partners, 'add', extra);
    await eventually(async () => expect((await grantsOf(svc, acme)).filter((g) => g.state === 'active' && g.entitlement === 'group:Viewers')).toHaveLength(7));
    for (const id of extra) await scim.setActive(id, false);
    const held = await eventually(async () => {
      const res = await call('listHolds', 'get', '/tenants/acme/holds?pending=true', acmeAdmin);
      expect(res.body.items).toHaveLength(2);
      return res.body.items as { id: string; userId: string }[];
    });
    const newest = await call('listHolds', 'get', '/tenants/acme/holds?limit=1');
    expect(newest.body.items).toEqual([held[0]]);
    expect((await call('listHolds', 'get', `/tenants/acme/holds?limit=1&cursor=${newest.body.nextCursor}`)).body).toEqual({ items: [held[1]], nextCursor: null });
    const released = await call('releaseHold', 'post', `/tenants/acme/holds/${held[0]!.id}/release`, acmeAdmin).send({});
    expect(released.body).toMatchObject({ id: held[0]!.id, state: 'released', decidedBy: 'key:acme-admin' });
    expectProblem(await call('rejectHold', 'post', `/tenants/acme/holds/${held[1]!.id}/reject`).send({}), 400, 'invalid_request');
    expectProblem(await call('releaseHold', 'post', `/tenants/globex/holds/${held[1]!.id}/release`).send({}), 404, 'not_found');
    const rejected = await call('rejectHold', 'post', `/tenants/acme/holds/${held[1]!.id}/reject`).send({ reason: 'IdP mistake' });
    expect(rejected.body.state).toBe('rejected');
    expect((await call('releaseAllHolds', 'post', '/tenants/acme/holds/release-all').send({})).body).toEqual({ items: [] });
    expect((await call('rejectAllHolds', 'post', '/tenants/acme/holds/reject-all').send({ reason: 'none left' })).body).toEqual({ items: [] });
    expect((await call('listHolds', 'get', '/tenants/acme/holds?pending=true')).body.items).toEqual([]);
  });
});

describe('failed jobs', () => {
  it('lists parked work and puts it back in flight, one job or all', async () => {
    crm.fault = { status: 503, times: 1_000 };
    const hank = await scim.createUser('hank@acme.example');
    const ivy = await scim.createUser('ivy@acme.example');
    const group = (await svc.sql<{ id: string }>("SELECT id FROM groups WHERE tenant_id = $1 AND display_name = 'Partners'", [acme.id]))[0]!.id;
    await scim.members(group, 'add', [hank, ivy]);
    const jobs = await eventually(async () => {
      const res = await call('listFailedJobs', 'get', '/tenants/acme/jobs/failed', acmeAdmin);
      expect(res.body.items).toHaveLength(2);
      return res.body.items as { id: string; userName: string; grants: number; error: string }[];
    });
    expect(jobs.map((j) => j.userName).sort()).toEqual(['hank@acme.example', 'ivy@acme.example']);
    expect(jobs[0]!.error).toMatch(/^unavailable/);
    crm.fault = undefined;

    const one = await call('retryFailedJob', 'post', `/tenants/acme/jobs/failed/${jobs[0]!.id}/retry`, acmeAdmin);
    expect(one.body).toEqual({ id: jobs[0]!.id, grants: 1 });
    expectProblem(await call('retryFailedJob', 'post', `/tenants/globex/jobs/failed/${jobs[1]!.id}/retry`), 404, 'not_found');
    expect((await call('retryAllFailedJobs', 'post', '/tenants/acme/jobs/failed/retry-all', acmeAdmin)).body).toEqual({ jobs: 1, grants: 1 });
    await eventually(async () => {
      expect(await crm.user(hank)).toEqual({ active: true, groups: ['Viewers'] });
      expect(await crm.user(ivy)).toEqual({ active: true, groups: ['Viewers'] });
    });
    expect((await call('listFailedJobs', 'get', '/tenants/acme/jobs/failed')).body.items).toEqual([]);
  });
});

describe('audit and evidence', () => {
  it('queries the audit trail by action, a page at a time', async () => {
    const page = await call('queryAuditEvents', 'get', '/tenants/acme/audit/events?action=policy.applied&limit=1', auditor);
    expect(page.body.items).toEqual([expect.objectContaining({ action: 'policy.applied', actor: 'operator:key:acme-admin', resourceId: '1', hash: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    const next = await call('queryAuditEvents', 'get', `/tenants/acme/audit/events?action=policy.applied&limit=1&cursor=${page.body.nextCursor}`, auditor);
    expect(next.body).toEqual({ items: [expect.objectContaining({ resourceId: '2' })], nextCursor: null });
    expect(next.body.items[0].seq).toBeGreaterThan(page.body.items[0].seq);
    const forged = Buffer.from(JSON.stringify(['1 OR 1=1'])).toString('base64url');
    expectProblem(await call('queryAuditEvents', 'get', `/tenants/acme/audit/events?cursor=${forged}`, auditor), 400, 'invalid_input', /cursor/);
    const since = await call('queryAuditEvents', 'get', '/tenants/acme/audit/events?since=2999-01-01', auditor);
    expect(since.body.items).toEqual([]);
    expectProblem(await call('queryAuditEvents', 'get', '/tenants/acme/audit/events?since=whenever'), 400, 'invalid_request', /query\.since/);
  });

  it('exports the trail as JSON Lines and CSV, and verifies it', async () => {
    const jsonl = await call('exportAuditEvents', 'get', '/tenants/acme/audit/export?format=jsonl', auditor).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => done(null, text));
    });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers['content-type']).toMatch(/^application\/jsonl/);
    const lines = (jsonl.body as string).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string });
    expect(lines[0]).toMatchObject({ seq: 1, action: 'tenant.created' });
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));

    const csv = await call('exportAuditEvents', 'get', '/tenants/acme/audit/export?format=csv', auditor);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toMatch(/^seq,occurredAt,actor,action/);
    expect(csv.text.trim().split('\n')).toHaveLength(lines.length + 1);

    const verdict = await call('verifyAudit', 'post', '/tenants/acme/audit/verify', auditor);
    expect(verdict.body).toMatchObject({ tenant: 'acme', ok: true, brokenAt: null, checkpoints: null });
    expect(verdict.body.events).toBeGreaterThanOrEqual(lines.length);
  });

  it('reports the evidence of a user as JSON or text, and 404 for an unknown user', async () => {
    const json = await call('getEvidence', 'get', '/tenants/acme/evidence?user=alice@acme.example', auditor);
    expect(json.status).toBe(200);
    expect(json.body.tenant).toMatchObject({ slug: 'acme' });
    const [user] = json.body.users as { userName: string; grants: { entitlement: string; approval: { decidedBy: string } | null }[] }[];
    expect(user!.userName).toBe('alice@acme.example');
    expect(user!.grants.map((g) => g.entitlement).sort()).toEqual(['group:Loaders', 'group:Viewers']);

    const text = await call('getEvidence', 'get', '/tenants/acme/evidence?format=text', auditor);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toContain('alice@acme.example');
    expect(text.text).toContain('bob@acme.example');
    expectProblem(await call('getEvidence', 'get', '/tenants/acme/evidence?user=nobody@acme.example', auditor), 404, 'not_found');
  });
});

describe('operators', () => {
  it('creates a key shown once, lists keys without it, and revokes it', async () => {
    const created = await call('createOperatorKey', 'post', '/operator-keys').send({ name: 'globex-admin', role: 'tenant-admin', tenants: ['globex'], ttlDays: 7 });
    expect(created.status).toBe(201);
    expect(created.body.record).toMatchObject({ name: 'globex-admin', role: 'tenant-admin', tenants: ['globex'], state: 'active', createdBy: 'operator:key:ops' });
    const auth = { Authorization: `Bearer ${created.body.key}` };
    expect((await call('getTenant', 'get', '/tenants/globex', auth)).status).toBe(200);
    expectProblem(await call('createOperatorKey', 'post', '/operator-keys').send({ name: 'x', role: 'tenant-admin' }), 400, 'invalid_input', /tenant/);

    const listed = await call('listOperatorKeys', 'get', '/operator-keys');
    expect(listed.body.items.map((k: { name: string }) => k.name)).toContain('globex-admin');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);

    expect((await call('revokeOperatorKey', 'delete', `/operator-keys/${created.body.record.id}`)).body.outcome).toBe('revoked');
    expectProblem(await svc.http.get('/admin/v1/tenants/globex').set(auth), 401, 'invalid_token', /revoked/);
  });
});

describe('health and offboarding', () => {
  it('reports each visible tenant at a glance', async () => {
    const all = await call('listTenantStatus', 'get', '/status', acmeAdmin);
    expect(all.body.items).toEqual([expect.objectContaining({ slug: 'acme', users: 9, pendingApprovals: 0, failedJobs: 0, activeTokens: 1, lastScimRequestAt: expect.any(String) })]);
    const one = await call('getTenantStatus', 'get', '/tenants/acme/status', auditor);
    expect(one.body.grants.active).toBeGreaterThan(0);
  });

  it('offboards a tenant: tokens revoked, access on its way out, records kept', async () => {
    const token = await call('issueScimToken', 'post', '/tenants/initech/tokens').send({});
    const done = await call('offboardTenant', 'post', '/tenants/initech/offboard');
    expect(done.body).toMatchObject({ tenant: { slug: 'initech', status: 'offboarded' }, tokensRevoked: 1, users: 0 });
    expect((await svc.http.get('/scim/v2/initech/Users').set({ Authorization: `Bearer ${token.body.token}` })).status).toBe(401);
    expectProblem(await call('offboardTenant', 'post', '/tenants/initech/offboard'), 409, 'conflict');
  });
});

describe('manifests', () => {
  const manifest = (slug: string, token: unknown) => `version: 1
tenant:
  slug: ${slug}
  name: Umbrella
  contractEnd: 2099-12-31
connectors:
  - name: crm
    kind: scim
    config:
      baseUrl: ${crm.config.baseUrl}
      auth:
        type: bearer
        token: ${JSON.stringify(token)}
policy:
  inline: |
    version: 1
    packages:
      viewer:
        entitlements:
          crm: [group:Viewers]
        maxDuration: P30D
    rules:
      - when: { group: Partners }
        grant: [viewer]
`;

  it('plans first, then creates the tenant with a token shown once, and is idempotent', async () => {
    process.env['UMBRELLA_CRM_TOKEN'] = crm.config.auth.token;
    const body = manifest('umbrella', { env: 'UMBRELLA_CRM_TOKEN' });
    const dry = await call('applyManifest', 'put', '/tenants/umbrella/manifest?dryRun=true').set('Content-Type', 'application/yaml').send(body);
    expect(dry.body).toMatchObject({ slug: 'umbrella', applied: false, scimBaseUrl: 'https://lanyard.test/scim/v2/umbrella' });
    expect(dry.body.steps.map((s: { action: string }) => s.action)).toEqual(['create-tenant', 'set-contract-end', 'add-connector', 'apply-policy']);
    expect(dry.body.token).toBeUndefined();
    expectProblem(await call('getTenant', 'get', '/tenants/umbrella'), 404, 'not_found');

    const applied = await call('applyManifest', 'put', '/tenants/umbrella/manifest').send({ source: body });
    expect(applied.body).toMatchObject({ applied: true, token: { token: expect.stringMatching(/^lanyard_/) } });
    expect((await svc.http.get('/scim/v2/umbrella/Users').set({ Authorization: `Bearer ${applied.body.token.token}` })).status).toBe(200);
    const again = await call('applyManifest', 'put', '/tenants/umbrella/manifest').send({ source: body });
    expect(again.body).toEqual({ slug: 'umbrella', applied: true, steps: [], scimBaseUrl: 'https://lanyard.test/scim/v2/umbrella' });
  });

  it("refuses a manifest for another tenant than the path's, the service's own settings, and files without ADMIN_MANIFEST_DIR", async () => {
    expectProblem(await call('applyManifest', 'put', '/tenants/other/manifest').send({ source: manifest('umbrella', { env: 'UMBRELLA_CRM_TOKEN' }) }), 400, 'invalid_input', /describes tenant "umbrella"/);
    const own = await call('applyManifest', 'put', '/tenants/umbrella/manifest').send({ source: manifest('umbrella', { env: 'LANYARD_MASTER_KEY' }) });
    expectProblem(own, 400, 'invalid_input', /connectors\[0\]\.config\.auth\.token: environment variable LANYARD_MASTER_KEY is not set/);
    const file = await call('applyManifest', 'put', '/tenants/umbrella/manifest').send({ source: manifest('umbrella', { file: '/etc/hostname' }) });
    expectProblem(file, 400, 'invalid_input', /file references need ADMIN_MANIFEST_DIR/);
  });
});

it("recorded every change made through the API in the tenant's audit trail, under the operator who made it", async () => {
  const rows = await svc.sql<{ actor: string; action: string }>(
    "SELECT DISTINCT actor, action FROM audit_events WHERE tenant_id = $1 AND (actor LIKE 'operator:%' OR actor LIKE 'approver:%')",
    [acme.id],
  );
  const seen = new Set(rows.map((r) => `${r.actor} ${r.action}`));
  for (const expected of [
    'operator:key:ops tenant.created',
    'operator:key:ops tenant.suspended',
    'operator:key:ops tenant.resumed',
    'operator:key:acme-admin connector.added',
    'operator:key:ops connector.removed',
    'operator:key:acme-admin policy.applied',
    'approver:ops approval.approved',
    'approver:ops approval.denied',
    'operator:key:acme-admin exception.granted',
    'operator:key:acme-admin hold.released',
    'operator:key:ops hold.rejected',
    'operator:key:acme-admin grant.retried',
  ]) {
    expect(seen, expected).toContain(expected);
  }
});

it('exercised every operation of the admin API', () => {
  expect(routes.map((r) => r.operationId).filter((id) => !exercised.has(id))).toEqual([]);
});
