import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_USER as USER, ENTERPRISE_USER as ENTERPRISE, LANYARD_ACCESS as LANYARD, PATCH_OP as PATCH } from '../../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

let svc: TestService;
let t: TestTenant;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

function newUser(userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [USER],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
    ...extra,
  };
}

async function create(userName: string, extra: Record<string, unknown> = {}) {
  const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(newUser(userName, extra));
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { version: string; location: string } };
}

describe('POST /Users', () => {
  it('answers 201 with Location, an ETag equal to meta.version, and the stored user', async () => {
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).set('Content-Type', 'application/scim+json').send(JSON.stringify(newUser('ada@example.com')));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(res.headers['location']).toBe(`https://lanyard.test${t.path}/Users/${res.body.id}`);
    expect(res.headers['etag']).toBe(res.body.meta.version);
    expect(res.body).toMatchObject({ userName: 'ada@example.com', active: true, schemas: [USER], meta: { resourceType: 'User', location: res.headers['location'] } });
  });

  it('never stores or returns password', async () => {
    const created = await create('pw@example.com', { password: 'Sup3rSecret!' });
    expect(JSON.stringify(created)).not.toContain('Sup3rSecret');
    const got = await svc.http.get(`${t.path}/Users/${created.id}`).set(t.auth);
    expect(JSON.stringify(got.body)).not.toContain('Sup3rSecret');
    const stored = await svc.sql<{ doc: string }>('SELECT doc::text AS doc FROM users WHERE id = $1', [created.id]);
    expect(stored[0]!.doc).not.toContain('Sup3rSecret');
  });

  it('ignores read-only attributes sent by the client (id, meta, groups)', async () => {
    const res = await svc.http
      .post(`${t.path}/Users`)
      .set(t.auth)
      .send(newUser('ro@example.com', { id: 'chosen-by-client', meta: { created: '2001-01-01T00:00:00Z' }, groups: [{ value: 'x' }] }));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('chosen-by-client');
    expect(res.body.meta.created).not.toBe('2001-01-01T00:00:00Z');
    expect(res.body.groups).toEqual([]);
  });

  it('accepts booleans sent as strings (Entra) and stores real booleans', async () => {
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(newUser('strbool@example.com', { active: 'False' }));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(false);
  });

  it('stores the enterprise extension (manager as a plain id) and the Lanyard intake extension', async () => {
    const res = await svc.http
      .post(`${t.path}/Users`)
      .set(t.auth)
      .send(
        newUser('partner@globex.com', {
          schemas: [USER, ENTERPRISE, LANYARD],
          [ENTERPRISE]: { department: 'Sales', manager: 'mgr-123' },
          [LANYARD]: { organization: 'Globex', sponsor: 'ada@example.com', useCase: 'Quarterly reporting', dataScope: 'emea', accessEndDate: '2027-03-31T00:00:00Z' },
        }),
      );
    expect(res.status).toBe(201);
    expect(res.body.schemas).toEqual([USER, ENTERPRISE, LANYARD]);
    expect(res.body[ENTERPRISE]).toEqual({ department: 'Sales', manager: { value: 'mgr-123' } });
    expect(res.body[LANYARD]).toMatchObject({ organization: 'Globex', sponsor: 'ada@example.com', dataScope: 'emea' });
  });

  it('refuses a duplicate userName, whatever its case, with 409 uniqueness', async () => {
    await create('dup@example.com');
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(newUser('DUP@Example.com'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
  });

  it('refuses a user without userName with 400', async () => {
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [USER], name: { givenName: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it('refuses a body that declares another resource\'s schema with 400 invalidSyntax', async () => {
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ ...newUser('wrong.schema@example.com'), schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidSyntax');
  });

  it('finds users by extension attributes', async () => {
    await create('ext.filter@example.com', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { department: 'Filterable Dept' } });
    const res = await svc.http.get(`${t.path}/Users`).query({ filter: `${ENTERPRISE}:department eq "filterable dept"` }).set(t.auth);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].userName).toBe('ext.filter@example.com');
  });

  it('lets externalId repeat: it is opaque and not unique', async () => {
    await create('ext1@example.com', { externalId: 'same' });
    await create('ext2@example.com', { externalId: 'same' });
    const res = await svc.http.get(`${t.path}/Users`).query({ filter: 'externalId eq "same"' }).set(t.auth);
    expect(res.body.totalResults).toBe(2);
  });
});

describe('lookups the IdPs make', () => {
  it('Okta: userName eq filter with startIndex and count, case-insensitive', async () => {
    const created = await create('okta.lookup@example.com');
    const res = await svc.http.get(`${t.path}/Users?filter=userName%20eq%20%22OKTA.LOOKUP@example.com%22&startIndex=1&count=100`).set(t.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(res.body.Resources[0].id).toBe(created.id);
  });

  it('Entra: the test-connection filter on a random GUID returns an empty list', async () => {
    const res = await svc.http.get(`${t.path}/Users`).query({ filter: `userName eq "${crypto.randomUUID()}"` }).set(t.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
  });

  it('an unknown id, or one that is not even a uuid, is 404 with a SCIM error body', async () => {
    for (const id of [crypto.randomUUID(), '00919288221112222']) {
      const res = await svc.http.get(`${t.path}/Users/${id}`).set(t.auth);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: '404', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
      expect(res.body.detail).toBeTruthy();
    }
  });
});

describe('PUT /Users/:id', () => {
  it('replaces the whole user and bumps the version', async () => {
    const created = await create('put@example.com', { title: 'Engineer', nickName: 'P' });
    const res = await svc.http.put(`${t.path}/Users/${created.id}`).set(t.auth).send(newUser('put@example.com', { title: 'Manager' }));
    expect(res.status).toBe(200);
    expect(res.body.title).toBe('Manager');
    expect(res.body.nickName).toBeUndefined();
    expect(res.body.meta.version).not.toBe(created.meta.version);
  });

  it('answers 412 when If-Match names an older version, and changes nothing', async () => {
    const created = await create('ifmatch@example.com');
    const first = await svc.http.put(`${t.path}/Users/${created.id}`).set(t.auth).set('If-Match', created.meta.version).send(newUser('ifmatch@example.com', { title: 'A' }));
    expect(first.status).toBe(200);
    const stale = await svc.http.put(`${t.path}/Users/${created.id}`).set(t.auth).set('If-Match', created.meta.version).send(newUser('ifmatch@example.com', { title: 'B' }));
    expect(stale.status).toBe(412);
    const now = await svc.http.get(`${t.path}/Users/${created.id}`).set(t.auth);
    expect(now.body.title).toBe('A');
  });
});

describe('PATCH /Users/:id', () => {
  async function patch(id: string, Operations: unknown[]) {
    return svc.http.patch(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [PATCH], Operations });
  }
  async function get(id: string) {
    return (await svc.http.get(`${t.path}/Users/${id}`).set(t.auth)).body;
  }

  it('Okta deactivation: replace with a value object {active:false}; the user stays readable', async () => {
    const created = await create('okta.deactivate@example.com');
    const res = await patch(created.id, [{ op: 'replace', value: { active: false } }]);
    expect(res.status).toBe(204);
    const user = await get(created.id);
    expect(user.active).toBe(false);
    expect(user.userName).toBe('okta.deactivate@example.com');
  });

  it('Entra: capitalised ops, string booleans, dotted keys and extension URN keys without a path', async () => {
    const created = await create('entra.user@example.com');
    const res = await patch(created.id, [
      { op: 'Replace', path: 'active', value: 'False' },
      { op: 'Replace', value: { 'name.givenName': 'Grace', [`${ENTERPRISE}:department`]: 'Research', displayName: 'Grace H' } },
      { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'manager-id-42' },
    ]);
    expect(res.status).toBe(204);
    const user = await get(created.id);
    expect(user.active).toBe(false);
    expect(user.name.givenName).toBe('Grace');
    expect(user.displayName).toBe('Grace H');
    expect(user[ENTERPRISE]).toEqual({ department: 'Research', manager: { value: 'manager-id-42' } });
  });

  it('Entra: emails[type eq "work"].value creates the entry when the user has none of that type', async () => {
    const created = await create('entra.email@example.com', { emails: [{ value: 'home@example.com', type: 'home' }] });
    expect((await patch(created.id, [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'work@example.com' }])).status).toBe(204);
    expect((await get(created.id)).emails).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'home', value: 'home@example.com' }), expect.objectContaining({ type: 'work', value: 'work@example.com' })]),
    );
    // And replaces it in place once it exists.
    expect((await patch(created.id, [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@example.com' }])).status).toBe(204);
    const emails = (await get(created.id)).emails as { type: string; value: string }[];
    expect(emails.filter((e) => e.type === 'work')).toEqual([expect.objectContaining({ value: 'new@example.com' })]);
  });

  it('sets and clears Lanyard intake attributes by their full path', async () => {
    const created = await create('intake@example.com');
    expect((await patch(created.id, [{ op: 'add', path: `${LANYARD}:organization`, value: 'Initech' }])).status).toBe(204);
    expect((await get(created.id))[LANYARD]).toEqual({ organization: 'Initech' });
    expect((await patch(created.id, [{ op: 'remove', path: `${LANYARD}:organization` }])).status).toBe(204);
    expect((await get(created.id))[LANYARD]).toBeUndefined();
  });

  it('refuses to set read-only attributes with 400 mutability', async () => {
    const created = await create('readonly@example.com');
    for (const path of ['id', 'meta.created', 'groups']) {
      const res = await patch(created.id, [{ op: 'replace', path, value: 'x' }]);
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('mutability');
    }
    expect((await get(created.id)).id).toBe(created.id);
  });

  it('is atomic: when one operation fails, none is applied', async () => {
    const created = await create('atomic@example.com');
    const res = await patch(created.id, [
      { op: 'replace', path: 'title', value: 'Applied?' },
      { op: 'replace', path: 'noSuchAttribute', value: 'x' },
    ]);
    expect(res.status).toBe(400);
    expect((await get(created.id)).title).toBeUndefined();
  });

  it('returns the resource with 200 when the client asks for attributes, projecting only the response', async () => {
    const created = await create('patch200@example.com', { title: 'Keep me' });
    const res = await svc.http
      .patch(`${t.path}/Users/${created.id}?attributes=userName`)
      .set(t.auth)
      .send({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName', value: 'N' }] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'schemas', 'userName']);
    const user = await get(created.id);
    expect(user.title).toBe('Keep me');
    expect(user.nickName).toBe('N');
  });
});

describe('DELETE /Users/:id', () => {
  it('removes the user: afterwards it is 404', async () => {
    const created = await create('delete.me@example.com');
    expect((await svc.http.delete(`${t.path}/Users/${created.id}`).set(t.auth)).status).toBe(204);
    expect((await svc.http.get(`${t.path}/Users/${created.id}`).set(t.auth)).status).toBe(404);
    expect((await svc.http.delete(`${t.path}/Users/${created.id}`).set(t.auth)).status).toBe(404);
  });
});

describe('lists', () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await svc.tenant();
    for (let i = 0; i < 25; i++) {
      const res = await svc.http
        .post(`${tenant.path}/Users`)
        .set(tenant.auth)
        .send(newUser(`list${String(i).padStart(2, '0')}@example.com`, { title: i % 2 ? 'odd' : 'even', name: { givenName: `G${i}`, familyName: i < 5 ? 'Employee' : 'Other' } }));
      expect(res.status).toBe(201);
    }
  });

  it('pages in a stable order with integer counts, without overlaps or gaps', async () => {
    const seen: string[] = [];
    for (let start = 1; start <= 25; start += 10) {
      const res = await svc.http.get(`${tenant.path}/Users?startIndex=${start}&count=10`).set(tenant.auth);
      expect(res.body.totalResults).toBe(25);
      expect(res.body.startIndex).toBe(start);
      expect(res.body.itemsPerPage).toBe(Math.min(10, 26 - start));
      seen.push(...res.body.Resources.map((r: { userName: string }) => r.userName));
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `list${String(i).padStart(2, '0')}@example.com`));
  });

  it('caps count at the advertised maximum', async () => {
    const small = await startTestService({ SCIM_MAX_RESULTS: '7' });
    try {
      const tt = await small.tenant();
      for (let i = 0; i < 9; i++) await small.http.post(`${tt.path}/Users`).set(tt.auth).send(newUser(`cap${i}@example.com`));
      const res = await small.http.get(`${tt.path}/Users?count=100`).set(tt.auth);
      expect(res.body.itemsPerPage).toBe(7);
      expect(res.body.totalResults).toBe(9);
      const spc = await small.http.get(`${tt.path}/ServiceProviderConfig`).set(tt.auth);
      expect(spc.body.filter).toEqual({ supported: true, maxResults: 7 });
    } finally {
      await small.close();
    }
  });

  it('sorts by an attribute, descending, in SQL', async () => {
    const res = await svc.http.get(`${tenant.path}/Users?sortBy=userName&sortOrder=descending&count=3`).set(tenant.auth);
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['list24@example.com', 'list23@example.com', 'list22@example.com']);
  });

  it('filters with and/or/not, grouping and value paths', async () => {
    const q = async (filter: string) => (await svc.http.get(`${tenant.path}/Users`).query({ filter, count: 100 }).set(tenant.auth)).body;
    expect((await q('title eq "odd" and name.familyName eq "Employee"')).totalResults).toBe(2);
    expect((await q('not (title eq "odd" or name.familyName eq "Employee")')).totalResults).toBe(10);
    expect((await q('emails[type eq "work" and value sw "list0"]')).totalResults).toBe(10);
    expect((await q('userName ew "9@example.com"')).totalResults).toBe(2);
  });

  it('applies attributes and excludedAttributes', async () => {
    const only = await svc.http.get(`${tenant.path}/Users?attributes=userName,name.givenName&count=1`).set(tenant.auth);
    expect(Object.keys(only.body.Resources[0]).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    expect(Object.keys(only.body.Resources[0].name)).toEqual(['givenName']);
    const without = await svc.http.get(`${tenant.path}/Users?excludedAttributes=emails,groups,meta&count=1`).set(tenant.auth);
    expect(without.body.Resources[0].emails).toBeUndefined();
    expect(without.body.Resources[0].groups).toBeUndefined();
    expect(without.body.Resources[0].userName).toBeDefined();
  });

  it('POST /Users/.search takes the same parameters in a body', async () => {
    const res = await svc.http
      .post(`${tenant.path}/Users/.search`)
      .set(tenant.auth)
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'title eq "even"', startIndex: 2, count: 5, attributes: ['userName'] });
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(13);
    expect(res.body.startIndex).toBe(2);
    expect(res.body.itemsPerPage).toBe(5);
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('refuses a bad filter with 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'nosuch eq "x"', 'userName xx "y"', '(userName eq "a"']) {
      const res = await svc.http.get(`${tenant.path}/Users`).query({ filter }).set(tenant.auth);
      expect(res.status, filter).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    }
  });
});
