import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP as GROUP, CORE_USER as USER, ERROR_MESSAGE as ERROR, PATCH_OP as PATCH } from '../../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

let svc: TestService;
let t: TestTenant;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

interface Member {
  value: string;
  $ref: string;
  type: string;
  display?: string;
}

interface GroupBody {
  id: string;
  displayName: string;
  externalId?: string;
  members?: Member[];
  meta: { version: string; location: string };
}

let seq = 0;
/** A name no other test in this file uses. */
function unique(prefix: string): string {
  return `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
}

async function createUser(userName: string, tenant: TestTenant = t): Promise<string> {
  const res = await svc.http
    .post(`${tenant.path}/Users`)
    .set(tenant.auth)
    .send({ schemas: [USER], userName, displayName: `Display ${userName}`, emails: [{ value: userName, type: 'work', primary: true }], active: true });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function createUsers(count: number, prefix: string, tenant: TestTenant = t): Promise<string[]> {
  const ids: string[] = [];
  // In turn, not in parallel: keeps the setup free of anything the concurrency tests are about.
  for (let i = 0; i < count; i++) ids.push(await createUser(`${unique(prefix)}-${i}@example.com`, tenant));
  return ids;
}

async function createGroup(displayName: string, members: { value: string; display?: string }[] = [], tenant: TestTenant = t): Promise<GroupBody> {
  const res = await svc.http.post(`${tenant.path}/Groups`).set(tenant.auth).send({ schemas: [GROUP], displayName, members });
  expect(res.status).toBe(201);
  return res.body as GroupBody;
}

function patchGroup(id: string, Operations: unknown[], tenant: TestTenant = t, headers: Record<string, string> = {}) {
  return svc.http.patch(`${tenant.path}/Groups/${id}`).set(tenant.auth).set(headers).send({ schemas: [PATCH], Operations });
}

async function getGroup(id: string, tenant: TestTenant = t, query: Record<string, string> = {}): Promise<GroupBody> {
  const res = await svc.http.get(`${tenant.path}/Groups/${id}`).query(query).set(tenant.auth);
  expect(res.status).toBe(200);
  return res.body as GroupBody;
}

function memberIds(group: GroupBody): string[] {
  return (group.members ?? []).map((m) => m.value).sort();
}

function sorted(ids: string[]): string[] {
  return [...ids].sort();
}

describe('POST /Groups', () => {
  it('creates an empty group: 201, Location, ETag equal to meta.version', async () => {
    const name = unique('Empty');
    const res = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [GROUP], displayName: name, members: [] });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(res.headers['location']).toBe(`https://lanyard.test${t.path}/Groups/${res.body.id}`);
    expect(res.headers['etag']).toBe(res.body.meta.version);
    expect(res.body).toMatchObject({ schemas: [GROUP], displayName: name, members: [], meta: { resourceType: 'Group', location: res.headers['location'] } });
  });

  it('creates a group with members, each returned with value, $ref, type "User" and display', async () => {
    const [a, b] = await createUsers(2, 'post-member');
    const res = await svc.http
      .post(`${t.path}/Groups`)
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: unique('WithMembers'), members: [{ value: a, display: 'Label A' }, { value: b }] });
    expect(res.status).toBe(201);
    const members = res.body.members as Member[];
    expect(members).toHaveLength(2);
    expect(members).toEqual(
      expect.arrayContaining([
        { value: a, $ref: `https://lanyard.test${t.path}/Users/${a}`, type: 'User', display: 'Label A' },
        { value: b, $ref: `https://lanyard.test${t.path}/Users/${b}`, type: 'User', display: expect.any(String) },
      ]),
    );
    // Without a label from the IdP, the user's own display name stands in.
    expect(members.find((m) => m.value === b)!.display).toMatch(/^Display post-member/);
  });
});

describe('Okta group push', () => {
  it('creates the group empty, then adds 100 members in one PATCH operation', async () => {
    const ids = await createUsers(100, 'okta-push');
    const group = await createGroup(unique('Okta Push'));
    const res = await patchGroup(group.id, [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }]);
    expect(res.status).toBe(204);
    const got = await getGroup(group.id);
    expect(got.members).toHaveLength(100);
    expect(memberIds(got)).toEqual(sorted(ids));
  });

  it('renames with a path-less replace carrying id and displayName, and with path displayName', async () => {
    const group = await createGroup(unique('Okta Rename'));
    const renamed = unique('Okta New');
    const first = await patchGroup(group.id, [{ op: 'replace', value: { id: group.id, displayName: renamed } }]);
    expect(first.status).toBe(204);
    const afterFirst = await getGroup(group.id);
    expect(afterFirst.displayName).toBe(renamed);
    expect(afterFirst.id).toBe(group.id);

    const again = unique('Okta Again');
    expect((await patchGroup(group.id, [{ op: 'replace', path: 'displayName', value: again }])).status).toBe(204);
    expect((await getGroup(group.id)).displayName).toBe(again);
  });
});

describe('Entra shapes', () => {
  it('accepts capitalised Add / Replace / Remove', async () => {
    const [a, b] = await createUsers(2, 'entra-caps');
    const group = await createGroup(unique('Entra Caps'));
    const name = unique('Entra Caps Renamed');
    const res = await patchGroup(group.id, [
      { op: 'Add', path: 'members', value: [{ value: a }, { value: b }] },
      { op: 'Replace', path: 'displayName', value: name },
      { op: 'Remove', path: 'members', value: [{ value: a }] },
    ]);
    expect(res.status).toBe(204);
    const got = await getGroup(group.id);
    expect(got.displayName).toBe(name);
    expect(memberIds(got)).toEqual([b]);
  });

  it('removes one member with members[value eq "<id>"]', async () => {
    const [a, b, c] = await createUsers(3, 'entra-filter');
    const group = await createGroup(unique('Entra Filter'), [{ value: a! }, { value: b! }, { value: c! }]);
    expect((await patchGroup(group.id, [{ op: 'Remove', path: `members[value eq "${b}"]` }])).status).toBe(204);
    expect(memberIds(await getGroup(group.id))).toEqual(sorted([a!, c!]));
  });

  it('removes only the listed members with path members and a value list; the others stay', async () => {
    const [a, b, c, d] = await createUsers(4, 'entra-list');
    const group = await createGroup(unique('Entra List'), [{ value: a! }, { value: b! }, { value: c! }, { value: d! }]);
    const res = await patchGroup(group.id, [{ op: 'Remove', path: 'members', value: [{ value: a }, { value: b }] }]);
    expect(res.status).toBe(204);
    expect(memberIds(await getGroup(group.id))).toEqual(sorted([c!, d!]));
  });

  it('finds the group by displayName with excludedAttributes=members, returning no members key', async () => {
    const [a] = await createUsers(1, 'entra-lookup');
    const name = unique('Entra Lookup');
    const group = await createGroup(name, [{ value: a! }]);
    const res = await svc.http.get(`${t.path}/Groups?excludedAttributes=members&filter=displayName%20eq%20%22${encodeURIComponent(name)}%22`).set(t.auth);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0]).toMatchObject({ id: group.id, displayName: name });
    expect(res.body.Resources[0]).not.toHaveProperty('members');
  });

  it('remove with path members and no value empties the group', async () => {
    const ids = await createUsers(3, 'entra-empty');
    const group = await createGroup(unique('Entra Empty'), ids.map((value) => ({ value })));
    expect((await patchGroup(group.id, [{ op: 'Remove', path: 'members' }])).status).toBe(204);
    expect((await getGroup(group.id)).members).toEqual([]);
    // The users themselves are untouched.
    for (const id of ids) expect((await svc.http.get(`${t.path}/Users/${id}`).set(t.auth)).status).toBe(200);
  });
});

describe('members in responses', () => {
  let tenant: TestTenant;
  let group: GroupBody;
  let memberId: string;

  beforeAll(async () => {
    tenant = await svc.tenant();
    memberId = (await createUsers(1, 'projection', tenant))[0]!;
    group = await createGroup('Projection', [{ value: memberId! }], tenant);
  });

  it('GET /Groups leaves members out of every resource', async () => {
    const res = await svc.http.get(`${tenant.path}/Groups`).set(tenant.auth);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0]).toMatchObject({ id: group.id, displayName: 'Projection' });
    expect(res.body.Resources[0]).not.toHaveProperty('members');
  });

  it('GET /Groups?attributes=members,displayName includes them', async () => {
    const res = await svc.http.get(`${tenant.path}/Groups?attributes=members,displayName`).set(tenant.auth);
    expect(res.status).toBe(200);
    expect(res.body.Resources[0].displayName).toBe('Projection');
    expect(res.body.Resources[0].members).toEqual([expect.objectContaining({ value: memberId, type: 'User' })]);
  });

  it('POST /Groups/.search follows the same rule', async () => {
    const without = await svc.http.post(`${tenant.path}/Groups/.search`).set(tenant.auth).send({ filter: 'displayName eq "Projection"' });
    expect(without.status).toBe(200);
    expect(without.body.Resources[0]).not.toHaveProperty('members');
    const withMembers = await svc.http.post(`${tenant.path}/Groups/.search`).set(tenant.auth).send({ filter: 'displayName eq "Projection"', attributes: ['members'] });
    expect(withMembers.body.Resources[0].members).toHaveLength(1);
  });

  it('GET /Groups/:id includes members by default and leaves them out with excludedAttributes=members', async () => {
    const full = await getGroup(group.id, tenant);
    expect(memberIds(full)).toEqual([memberId]);
    const res = await svc.http.get(`${tenant.path}/Groups/${group.id}?excludedAttributes=members`).set(tenant.auth);
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Projection');
    expect(res.body).not.toHaveProperty('members');
  });
});

describe('member references that are not users of this tenant', () => {
  let other: TestTenant;
  let foreignUser: string;
  let member: string;
  let group: GroupBody;

  beforeAll(async () => {
    other = await svc.tenant();
    foreignUser = await createUser('foreign@example.com', other);
    member = (await createUsers(1, 'refuse'))[0]!;
    group = await createGroup(unique('Refuse'), [{ value: member! }]);
  });

  const bad = (): [string, unknown][] => [
    ['a random uuid', [{ value: crypto.randomUUID() }]],
    ['a string that is not an id', [{ value: 'string id 1' }]],
    ['a plain string instead of a list of members', 'string id 1'],
    ['a user of another tenant', [{ value: foreignUser }]],
    ['a member of type Group', [{ value: member, type: 'Group' }]],
  ];

  it('are refused by PATCH add and replace with 400 invalidValue, and nothing changes', async () => {
    const [fresh] = await createUsers(1, 'refuse-fresh');
    for (const [what, value] of bad()) {
      for (const op of ['add', 'replace']) {
        // A valid reference next to the bad one must not be applied either.
        const ops = [
          { op: 'add', path: 'members', value: [{ value: fresh }] },
          { op, path: 'members', value },
        ];
        const res = await patchGroup(group.id, ops);
        expect(res.status, `${op}: ${what}`).toBe(400);
        expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
      }
    }
    const now = await getGroup(group.id);
    expect(memberIds(now)).toEqual([member]);
    expect(now.meta.version).toBe(group.meta.version);
  });

  it('are refused by POST and PUT with 400 invalidValue, and nothing is created or changed', async () => {
    for (const [what, members] of bad()) {
      const name = unique('Refused Post');
      const post = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [GROUP], displayName: name, members });
      expect(post.status, `POST: ${what}`).toBe(400);
      expect(post.body.scimType).toBe('invalidValue');
      const listed = await svc.http.get(`${t.path}/Groups`).query({ filter: `displayName eq "${name}"` }).set(t.auth);
      expect(listed.body.totalResults).toBe(0);

      const put = await svc.http.put(`${t.path}/Groups/${group.id}`).set(t.auth).send({ schemas: [GROUP], displayName: 'Renamed by PUT', members });
      expect(put.status, `PUT: ${what}`).toBe(400);
      expect(put.body.scimType).toBe('invalidValue');
    }
    const now = await getGroup(group.id);
    expect(now.displayName).toBe(group.displayName);
    expect(memberIds(now)).toEqual([member]);
    expect(now.meta.version).toBe(group.meta.version);
  });

  it('the other tenant cannot see or change this tenant’s group', async () => {
    expect((await svc.http.get(`${other.path}/Groups/${group.id}`).set(other.auth)).status).toBe(404);
    const res = await patchGroup(group.id, [{ op: 'add', path: 'members', value: [{ value: foreignUser }] }], other);
    expect(res.status).toBe(404);
    expect(memberIds(await getGroup(group.id))).toEqual([member]);
  });
});

describe('writes', () => {
  it('refuses a duplicate displayName, whatever its case, with 409 uniqueness', async () => {
    const name = unique('Dup Group');
    await createGroup(name);
    const res = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [GROUP], displayName: name.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    // A rename onto a taken name is refused the same way.
    const other = await createGroup(unique('Dup Other'));
    const rename = await patchGroup(other.id, [{ op: 'replace', path: 'displayName', value: name.toLowerCase() }]);
    expect(rename.status).toBe(409);
    expect(rename.body.scimType).toBe('uniqueness');
  });

  it('PUT replaces displayName, externalId and members; members left out of the body are removed', async () => {
    const [a, b, c] = await createUsers(3, 'put');
    const created = await svc.http
      .post(`${t.path}/Groups`)
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: unique('Put Before'), externalId: 'ext-before', members: [{ value: a }, { value: b }] });
    expect(created.status).toBe(201);
    const name = unique('Put After');
    const res = await svc.http
      .put(`${t.path}/Groups/${created.body.id}`)
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: name, externalId: 'ext-after', members: [{ value: b }, { value: c }] });
    expect(res.status).toBe(200);
    expect(res.headers['etag']).toBe(res.body.meta.version);
    expect(res.body.meta.version).not.toBe(created.body.meta.version);
    expect(res.body).toMatchObject({ displayName: name, externalId: 'ext-after' });
    expect(memberIds(res.body as GroupBody)).toEqual(sorted([b!, c!]));
    const got = await getGroup(created.body.id);
    expect(got).toMatchObject({ displayName: name, externalId: 'ext-after' });
    expect(memberIds(got)).toEqual(sorted([b!, c!]));

    // A PUT without members or externalId leaves the group without them.
    const bare = await svc.http.put(`${t.path}/Groups/${created.body.id}`).set(t.auth).send({ schemas: [GROUP], displayName: name });
    expect(bare.status).toBe(200);
    const after = await getGroup(created.body.id);
    expect(after.members).toEqual([]);
    expect(after.externalId).toBeUndefined();
  });

  it('answers 412 to PUT, PATCH and DELETE with a stale If-Match, and changes nothing', async () => {
    const [a] = await createUsers(1, 'stale');
    const group = await createGroup(unique('Stale'));
    const stale = group.meta.version;
    const fresh = await patchGroup(group.id, [{ op: 'add', path: 'members', value: [{ value: a }] }], t, { 'If-Match': stale });
    expect(fresh.status).toBe(204);
    const current = fresh.headers['etag'] as string;
    expect(current).not.toBe(stale);

    const put = await svc.http.put(`${t.path}/Groups/${group.id}`).set(t.auth).set('If-Match', stale).send({ schemas: [GROUP], displayName: 'Stale Put' });
    expect(put.status).toBe(412);
    const patch = await patchGroup(group.id, [{ op: 'remove', path: 'members' }], t, { 'If-Match': stale });
    expect(patch.status).toBe(412);
    const del = await svc.http.delete(`${t.path}/Groups/${group.id}`).set(t.auth).set('If-Match', stale);
    expect(del.status).toBe(412);
    for (const res of [put, patch, del]) expect(res.body).toMatchObject({ schemas: [ERROR], status: '412' });

    const now = await getGroup(group.id);
    expect(now.displayName).toBe(group.displayName);
    expect(memberIds(now)).toEqual([a]);
    expect(now.meta.version).toBe(current);
    // The current version is accepted.
    expect((await svc.http.delete(`${t.path}/Groups/${group.id}`).set(t.auth).set('If-Match', current)).status).toBe(204);
  });

  it('DELETE answers 204, then the group is 404', async () => {
    const [a] = await createUsers(1, 'delete-group');
    const group = await createGroup(unique('Delete'), [{ value: a! }]);
    expect((await svc.http.delete(`${t.path}/Groups/${group.id}`).set(t.auth)).status).toBe(204);
    const gone = await svc.http.get(`${t.path}/Groups/${group.id}`).set(t.auth);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ schemas: [ERROR], status: '404' });
    expect((await svc.http.delete(`${t.path}/Groups/${group.id}`).set(t.auth)).status).toBe(404);
    // The member is still a user, in no group.
    const user = await svc.http.get(`${t.path}/Users/${a}`).set(t.auth);
    expect(user.status).toBe(200);
    expect(user.body.groups).toEqual([]);
  });

  it('deleting a user removes it from the groups it was in', async () => {
    const [a, b] = await createUsers(2, 'delete-user');
    const one = await createGroup(unique('Del User 1'), [{ value: a! }, { value: b! }]);
    const two = await createGroup(unique('Del User 2'), [{ value: a! }]);
    expect((await svc.http.delete(`${t.path}/Users/${a}`).set(t.auth)).status).toBe(204);
    expect(memberIds(await getGroup(one.id))).toEqual([b]);
    expect(memberIds(await getGroup(two.id))).toEqual([]);
    const listed = await svc.http.get(`${t.path}/Groups`).query({ filter: `displayName eq "${one.displayName}"`, attributes: 'members' }).set(t.auth);
    expect(listed.body.Resources[0].members.map((m: Member) => m.value)).toEqual([b]);
  });

  it('a PATCH that changes nothing (adding an existing member) answers 204 and keeps the version', async () => {
    const [a] = await createUsers(1, 'noop');
    const group = await createGroup(unique('Noop'), [{ value: a! }]);
    const res = await patchGroup(group.id, [{ op: 'add', path: 'members', value: [{ value: a }] }]);
    expect(res.status).toBe(204);
    expect(res.headers['etag']).toBe(group.meta.version);
    const now = await getGroup(group.id);
    expect(now.meta.version).toBe(group.meta.version);
    expect(memberIds(now)).toEqual([a]);
    // Removing a non-member is no change either.
    const [stranger] = await createUsers(1, 'noop-stranger');
    expect((await patchGroup(group.id, [{ op: 'remove', path: `members[value eq "${stranger}"]` }])).status).toBe(204);
    expect((await getGroup(group.id)).meta.version).toBe(group.meta.version);
  });
});

describe('the user side of membership', () => {
  it('GET /Users/:id lists the groups the user is in', async () => {
    const [a] = await createUsers(1, 'user-groups');
    const name = unique('User Groups');
    const group = await createGroup(name);
    expect((await svc.http.get(`${t.path}/Users/${a}`).set(t.auth)).body.groups).toEqual([]);
    expect((await patchGroup(group.id, [{ op: 'add', path: 'members', value: [{ value: a }] }])).status).toBe(204);
    const user = await svc.http.get(`${t.path}/Users/${a}`).set(t.auth);
    expect(user.status).toBe(200);
    expect(user.body.groups).toEqual([{ value: group.id, display: name, $ref: `https://lanyard.test${t.path}/Groups/${group.id}`, type: 'direct' }]);
    // And stops listing it once the user leaves.
    expect((await patchGroup(group.id, [{ op: 'remove', path: `members[value eq "${a}"]` }])).status).toBe(204);
    expect((await svc.http.get(`${t.path}/Users/${a}`).set(t.auth)).body.groups).toEqual([]);
  });
});

describe('audit', () => {
  it('records a membership PATCH as group.patched with member ids only, never names or e-mails', async () => {
    const tenant = await svc.tenant();
    const userNames = [`${unique('audit-a')}@secret-mail.example`, `${unique('audit-b')}@secret-mail.example`];
    const ids: string[] = [];
    for (const userName of userNames) ids.push(await createUser(userName, tenant));
    const group = await createGroup('Audit Group', [], tenant);
    const res = await patchGroup(group.id, [{ op: 'add', path: 'members', value: ids.map((value, i) => ({ value, display: `Display Label ${i}` })) }], tenant);
    expect(res.status).toBe(204);

    const client = new pg.Client({ connectionString: svc.database.url });
    await client.connect();
    let rows: { action: string; resource_id: string | null; entry: string }[];
    try {
      rows = (
        await client.query<{ action: string; resource_id: string | null; entry: string }>(
          'SELECT action, resource_id, entry FROM audit_events WHERE tenant_id = $1 ORDER BY seq',
          [tenant.id],
        )
      ).rows;
    } finally {
      await client.end();
    }
    const patched = rows.filter((r) => r.action === 'group.patched');
    expect(patched).toHaveLength(1);
    expect(patched[0]!.resource_id).toBe(group.id);
    expect(rows.map((r) => r.action).slice(-4)).toEqual(['user.created', 'user.created', 'group.created', 'group.patched']);
    const entry = JSON.parse(patched[0]!.entry) as { action: string; resourceType: string; attributes: string[]; detail: { membersAdded: string[]; membersRemoved: string[] } };
    expect(entry).toMatchObject({ action: 'group.patched', resourceType: 'group', attributes: ['members'] });
    expect(sorted(entry.detail.membersAdded)).toEqual(sorted(ids));
    expect(entry.detail.membersRemoved).toEqual([]);
    for (const row of rows) {
      for (const userName of userNames) {
        expect(row.entry).not.toContain(userName);
        expect(row.entry).not.toContain(`Display ${userName}`);
      }
      expect(row.entry).not.toContain('secret-mail');
      expect(row.entry).not.toContain('Display Label');
    }
  });
});
