import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP as GROUP, CORE_USER as USER, ERROR_MESSAGE as ERROR, PATCH_OP as PATCH } from '../../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

const BASE = 'https://lanyard.test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Side {
  t: TestTenant;
  userIds: string[];
  groupId: string;
  /** Every resource id this tenant owns, including those created during a test. */
  ids: Set<string>;
}

let svc: TestService;
let a: Side;
let b: Side;

function user(userName: string, extra: Record<string, unknown> = {}) {
  return { schemas: [USER], userName, name: { givenName: 'Iso', familyName: 'Lation' }, active: true, ...extra };
}

async function seed(t: TestTenant): Promise<Side> {
  const userIds: string[] = [];
  for (const n of [1, 2, 3]) {
    // The same userNames in both tenants: uniqueness is per tenant.
    const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(user(`member${n}@example.com`, { title: `title of ${t.slug}` }));
    expect(res.status).toBe(201);
    userIds.push(res.body.id as string);
  }
  const group = await svc.http
    .post(`${t.path}/Groups`)
    .set(t.auth)
    .send({ schemas: [GROUP], displayName: 'Engineering', members: userIds.map((value) => ({ value })) });
  expect(group.status).toBe(201);
  const groupId = group.body.id as string;
  return { t, userIds, groupId, ids: new Set([...userIds, groupId]) };
}

beforeAll(async () => {
  svc = await startTestService();
  const suffix = randomBytes(4).toString('hex');
  a = await seed(await svc.tenant(`iso-alpha-${suffix}`));
  b = await seed(await svc.tenant(`iso-beta-${suffix}`));
});
afterAll(() => svc.close());

/** Every string and every id-like value in a response body, with the key it sits under. */
function walk(value: unknown, visit: (key: string, v: unknown) => void, key = ''): void {
  if (Array.isArray(value)) for (const item of value) walk(item, visit, key);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, visit, k);
  else visit(key, value);
}

interface Observed {
  side: Side;
  other: Side;
  what: string;
  status: number;
  body: unknown;
  text: string;
  location: string | undefined;
}

function checkBelongs(o: Observed): void {
  const own = `${BASE}/scim/v2/${o.side.t.slug}/`;
  const label = `${o.what} on ${o.side.t.slug}`;
  expect(o.text, label).not.toContain(o.other.t.slug);
  for (const id of o.other.ids) expect(o.text, label).not.toContain(id);
  if (o.location !== undefined) expect(o.location.startsWith(own), label).toBe(true);
  walk(o.body, (key, v) => {
    if (typeof v !== 'string') return;
    if (key === 'location' || key === '$ref') expect(v.startsWith(own), `${label}: ${key} ${v}`).toBe(true);
    if ((key === 'id' || key === 'value') && UUID.test(v)) expect(o.side.ids.has(v), `${label}: ${key} ${v}`).toBe(true);
  });
}

describe('concurrent traffic of two tenants', () => {
  it('200 mixed requests: every response names only the tenant of its URL', async () => {
    const kinds = ['listUsers', 'getUser', 'createUser', 'getGroup', 'listGroups'] as const;
    const requests = Array.from({ length: 200 }, async (_, i): Promise<Observed> => {
      const [side, other] = i % 2 === 0 ? [a, b] : [b, a];
      const { t } = side;
      const kind = kinds[Math.floor(i / 2) % kinds.length]!;
      let res;
      switch (kind) {
        case 'listUsers':
          res = await svc.http.get(`${t.path}/Users`).query({ count: 1000 }).set(t.auth);
          break;
        case 'getUser':
          res = await svc.http.get(`${t.path}/Users/${side.userIds[i % side.userIds.length]}`).set(t.auth);
          break;
        case 'createUser':
          // Both tenants create the same userName at the same time.
          res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(user(`concurrent${Math.floor(i / 2)}@example.com`));
          if (res.status === 201) side.ids.add(res.body.id as string);
          break;
        case 'getGroup':
          res = await svc.http.get(`${t.path}/Groups/${side.groupId}`).set(t.auth);
          break;
        case 'listGroups':
          res = await svc.http.get(`${t.path}/Groups`).query({ attributes: 'displayName,members' }).set(t.auth);
          break;
      }
      return { side, other, what: `${kind} #${i}`, status: res.status, body: res.body, text: res.text, location: res.headers['location'] };
    });
    const observed = await Promise.all(requests);

    for (const o of observed) {
      expect(o.status, `${o.what}: ${o.text}`).toBe(o.what.startsWith('createUser') ? 201 : 200);
      checkBelongs(o);
    }
    // Members and groups were rendered with references, so the checks above saw some.
    const groupReads = observed.filter((o) => o.what.startsWith('getGroup'));
    expect(groupReads.length).toBeGreaterThan(0);
    for (const o of groupReads) expect((o.body as { members: unknown[] }).members).toHaveLength(3);

    // Afterwards each tenant holds exactly its own users.
    for (const [side, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const list = await svc.http.get(`${side.t.path}/Users`).query({ count: 1000 }).set(side.t.auth);
      expect(list.status).toBe(200);
      const ids = (list.body.Resources as { id: string }[]).map((r) => r.id);
      expect(list.body.totalResults).toBe(3 + 20);
      for (const id of ids) {
        expect(side.ids.has(id)).toBe(true);
        expect(other.ids.has(id)).toBe(false);
      }
    }
  });
});

describe("a resource id of another tenant is 404 and leaves the resource alone", () => {
  async function snapshot(side: Side, path: string) {
    const res = await svc.http.get(`${side.t.path}/${path}`).set(side.t.auth);
    expect(res.status).toBe(200);
    return res.body as Record<string, unknown>;
  }

  function expectNotFound(res: { status: number; body: Record<string, unknown>; text: string }, what: string): void {
    expect(res.status, what).toBe(404);
    expect(res.body, what).toMatchObject({ schemas: [ERROR], status: '404' });
    expect(res.text, what).not.toContain(a.t.slug);
  }

  it('Users: GET, PUT, PATCH, DELETE under the other tenant', async () => {
    const id = a.userIds[0]!;
    const before = await snapshot(a, `Users/${id}`);
    const path = `${b.t.path}/Users/${id}`;
    expectNotFound(await svc.http.get(path).set(b.t.auth), 'GET');
    expectNotFound(await svc.http.put(path).set(b.t.auth).send(user('member1@example.com', { title: 'hijacked' })), 'PUT');
    expectNotFound(
      await svc.http
        .patch(path)
        .set(b.t.auth)
        .send({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      'PATCH',
    );
    expectNotFound(await svc.http.delete(path).set(b.t.auth), 'DELETE');
    expect(await snapshot(a, `Users/${id}`)).toEqual(before);
  });

  it('Groups: GET, PUT, PATCH, DELETE under the other tenant', async () => {
    const id = a.groupId;
    const before = await snapshot(a, `Groups/${id}`);
    const path = `${b.t.path}/Groups/${id}`;
    expectNotFound(await svc.http.get(path).set(b.t.auth), 'GET');
    expectNotFound(await svc.http.put(path).set(b.t.auth).send({ schemas: [GROUP], displayName: 'hijacked', members: [] }), 'PUT');
    expectNotFound(
      await svc.http
        .patch(path)
        .set(b.t.auth)
        .send({ schemas: [PATCH], Operations: [{ op: 'remove', path: 'members' }] }),
      'PATCH',
    );
    expectNotFound(await svc.http.delete(path).set(b.t.auth), 'DELETE');
    const after = await snapshot(a, `Groups/${id}`);
    expect(after).toEqual(before);
    expect(after['members']).toHaveLength(3);
  });

  it("another tenant's user cannot be made a member of a group", async () => {
    const foreign = a.userIds[1]!;
    const created = await svc.http
      .post(`${b.t.path}/Groups`)
      .set(b.t.auth)
      .send({ schemas: [GROUP], displayName: 'Smuggled', members: [{ value: foreign }] });
    expect(created.status).toBe(400);
    expect(created.body.scimType).toBe('invalidValue');
    const patched = await svc.http
      .patch(`${b.t.path}/Groups/${b.groupId}`)
      .set(b.t.auth)
      .send({ schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: foreign }] }] });
    expect(patched.status).toBe(400);
    const group = await snapshot(b, `Groups/${b.groupId}`);
    expect((group['members'] as { value: string }[]).map((m) => m.value).sort()).toEqual([...b.userIds].sort());
    const smuggled = await svc.http.get(`${b.t.path}/Groups`).query({ filter: 'displayName eq "Smuggled"' }).set(b.t.auth);
    expect(smuggled.body.totalResults).toBe(0);
  });
});

describe('filters stay inside the tenant', () => {
  it("tenant B cannot find tenant A's users by userName or id", async () => {
    const onlyInA = await svc.http.post(`${a.t.path}/Users`).set(a.t.auth).send(user('only-in-alpha@example.com'));
    expect(onlyInA.status).toBe(201);
    a.ids.add(onlyInA.body.id as string);

    for (const filter of ['userName eq "only-in-alpha@example.com"', `id eq "${onlyInA.body.id}"`, `id eq "${a.groupId}"`]) {
      const res = await svc.http.get(`${b.t.path}/Users`).query({ filter }).set(b.t.auth);
      expect(res.status, filter).toBe(200);
      expect(res.body.totalResults, filter).toBe(0);
      expect(res.body.Resources).toEqual([]);
    }
    const search = await svc.http
      .post(`${b.t.path}/Users/.search`)
      .set(b.t.auth)
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "only-in"' });
    expect(search.status).toBe(200);
    expect(search.body.totalResults).toBe(0);
    const groups = await svc.http.get(`${b.t.path}/Groups`).query({ filter: `id eq "${a.groupId}"` }).set(b.t.auth);
    expect(groups.body.totalResults).toBe(0);

    // The same filter in A does find it.
    const own = await svc.http.get(`${a.t.path}/Users`).query({ filter: 'userName eq "only-in-alpha@example.com"' }).set(a.t.auth);
    expect(own.body.totalResults).toBe(1);
  });
});

describe('row-level security in the database', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: svc.database.url });
    await client.connect();
    await client.query('SET ROLE lanyard_app');
  });
  afterAll(() => client.end());

  async function count(table: string): Promise<number> {
    return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  }

  it('without a tenant context the app role sees no tenant rows', async () => {
    expect((await client.query<{ r: string }>('SELECT current_user AS r')).rows[0]!.r).toBe('lanyard_app');
    for (const table of ['users', 'groups', 'group_members', 'scim_tokens', 'audit_events', 'audit_chain_heads']) {
      expect(await count(table), table).toBe(0);
    }
  });

  it("with tenant A's context it sees only A's rows", async () => {
    await client.query("SELECT set_config('lanyard.tenant_id', $1, false)", [a.t.id]);
    try {
      const { rows } = await client.query<{ tenant_id: string; id: string }>('SELECT tenant_id, id FROM users');
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const row of rows) {
        expect(row.tenant_id).toBe(a.t.id);
        expect(a.ids.has(row.id)).toBe(true);
      }
      const members = await client.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM group_members');
      expect(members.rows).toEqual([{ tenant_id: a.t.id }]);
      const tokens = await client.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM scim_tokens');
      expect(tokens.rows).toEqual([{ tenant_id: a.t.id }]);
      // B's user, asked for by its id, is simply not there.
      expect((await client.query('SELECT 1 FROM users WHERE id = $1', [b.userIds[0]])).rowCount).toBe(0);
    } finally {
      await client.query("SELECT set_config('lanyard.tenant_id', '', false)");
    }
  });

  it("refuses a row for tenant B written under A's context", async () => {
    await client.query("SELECT set_config('lanyard.tenant_id', $1, false)", [a.t.id]);
    try {
      await expect(
        client.query(`INSERT INTO users (tenant_id, user_name, active, doc) VALUES ($1, 'smuggled@example.com', true, '{}')`, [b.t.id]),
      ).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/row-level security/) });
      // Nor can an update move one of A's rows over to B.
      await expect(client.query('UPDATE users SET tenant_id = $1 WHERE id = $2', [b.t.id, a.userIds[2]])).rejects.toMatchObject({ code: '42501' });
      // And B's rows are out of reach for updates and deletes: nothing matches.
      expect((await client.query(`UPDATE users SET active = false WHERE tenant_id = $1`, [b.t.id])).rowCount).toBe(0);
      expect((await client.query('DELETE FROM users WHERE tenant_id = $1', [b.t.id])).rowCount).toBe(0);
    } finally {
      await client.query("SELECT set_config('lanyard.tenant_id', '', false)");
    }
    const smuggled = await svc.http.get(`${b.t.path}/Users`).query({ filter: 'userName eq "smuggled@example.com"' }).set(b.t.auth);
    expect(smuggled.body.totalResults).toBe(0);
    const stillB = await svc.http.get(`${b.t.path}/Users/${b.userIds[0]}`).set(b.t.auth);
    expect(stillB.status).toBe(200);
    expect(stillB.body.active).toBe(true);
  });

  it('the app role cannot update or delete audit events, even in its own tenant', async () => {
    await client.query("SELECT set_config('lanyard.tenant_id', $1, false)", [a.t.id]);
    try {
      expect(await count('audit_events')).toBeGreaterThan(0);
      await expect(client.query("UPDATE audit_events SET actor = 'someone else'")).rejects.toMatchObject({
        code: '42501',
        message: expect.stringMatching(/permission denied/),
      });
      await expect(client.query('DELETE FROM audit_events')).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
      await expect(client.query('TRUNCATE audit_events')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.query("SELECT set_config('lanyard.tenant_id', '', false)");
    }
  });
});
