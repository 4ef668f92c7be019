import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP as GROUP, CORE_USER as USER, PATCH_OP as PATCH } from '../../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

let svc: TestService;
let t: TestTenant;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

let seq = 0;
function unique(prefix: string): string {
  return `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
}

/** `W/"7"` → 7. */
function versionNumber(etag: string): number {
  const match = /^W\/"(\d+)"$/.exec(etag);
  if (!match) throw new Error(`unexpected version ${etag}`);
  return Number(match[1]);
}

function newUser(userName: string, extra: Record<string, unknown> = {}) {
  return { schemas: [USER], userName, emails: [{ value: userName, type: 'work', primary: true }], active: true, ...extra };
}

async function createUser(userName = `${unique('user')}@example.com`): Promise<{ id: string; meta: { version: string } }> {
  const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send(newUser(userName));
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { version: string } };
}

async function createUsers(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await createUser()).id);
  return ids;
}

async function createGroup(members: string[] = []): Promise<{ id: string; meta: { version: string } }> {
  const res = await svc.http
    .post(`${t.path}/Groups`)
    .set(t.auth)
    .send({ schemas: [GROUP], displayName: unique('Group'), members: members.map((value) => ({ value })) });
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { version: string } };
}

function patch(kind: 'Users' | 'Groups', id: string, Operations: unknown[]) {
  return svc.http.patch(`${t.path}/${kind}/${id}`).set(t.auth).send({ schemas: [PATCH], Operations });
}

async function membersOf(groupId: string): Promise<string[]> {
  const res = await svc.http.get(`${t.path}/Groups/${groupId}`).set(t.auth);
  expect(res.status).toBe(200);
  return (res.body.members as { value: string }[]).map((m) => m.value).sort();
}

describe('parallel PATCHes of one user', () => {
  it('20 PATCHes each adding a different phone number: all 20 land and the version advances by 20', async () => {
    const user = await createUser();
    const numbers = Array.from({ length: 20 }, (_, i) => `+1-555-${String(i).padStart(4, '0')}`);
    const results = await Promise.all(numbers.map((value) => patch('Users', user.id, [{ op: 'add', path: 'phoneNumbers', value: [{ value, type: 'work' }] }])));
    expect(results.map((r) => r.status)).toEqual(numbers.map(() => 204));
    // Every answer carries a distinct version: each PATCH applied to the result of the one before.
    expect(new Set(results.map((r) => r.headers['etag'])).size).toBe(20);

    const got = await svc.http.get(`${t.path}/Users/${user.id}`).set(t.auth);
    const stored = (got.body.phoneNumbers as { value: string }[]).map((p) => p.value).sort();
    expect(stored).toEqual(numbers);
    expect(versionNumber(got.body.meta.version)).toBe(versionNumber(user.meta.version) + 20);
  });
});

describe('parallel PATCHes of one group', () => {
  it('20 PATCHes each adding a different batch of 5 members: all 100 end up in the group', async () => {
    const ids = await createUsers(100);
    const group = await createGroup();
    const batches = Array.from({ length: 20 }, (_, i) => ids.slice(i * 5, i * 5 + 5));
    const results = await Promise.all(
      batches.map((batch) => patch('Groups', group.id, [{ op: 'add', path: 'members', value: batch.map((value) => ({ value })) }])),
    );
    expect(results.map((r) => r.status)).toEqual(batches.map(() => 204));
    expect(await membersOf(group.id)).toEqual([...ids].sort());
    const got = await svc.http.get(`${t.path}/Groups/${group.id}?excludedAttributes=members`).set(t.auth);
    expect(versionNumber(got.body.meta.version)).toBe(versionNumber(group.meta.version) + 20);
  });

  it('parallel adds and removes of disjoint sets end with exactly the expected members', async () => {
    const ids = await createUsers(40);
    const keep = ids.slice(0, 10);
    const toRemove = ids.slice(10, 25);
    const toAdd = ids.slice(25, 40);
    const group = await createGroup([...keep, ...toRemove]);
    const requests = [
      ...toAdd.map((value) => patch('Groups', group.id, [{ op: 'add', path: 'members', value: [{ value }] }])),
      ...toRemove.map((value, i) =>
        // Both removal shapes Entra sends, mixed.
        i % 2
          ? patch('Groups', group.id, [{ op: 'Remove', path: `members[value eq "${value}"]` }])
          : patch('Groups', group.id, [{ op: 'Remove', path: 'members', value: [{ value }] }]),
      ),
    ];
    const results = await Promise.all(requests);
    expect(results.map((r) => r.status)).toEqual(requests.map(() => 204));
    expect(await membersOf(group.id)).toEqual([...keep, ...toAdd].sort());
  });
});

describe('parallel PUTs of one user', () => {
  it('without If-Match every PUT succeeds, applied one after the other', async () => {
    const userName = `${unique('put-all')}@example.com`;
    const user = await createUser(userName);
    const titles = Array.from({ length: 10 }, (_, i) => `Title ${i}`);
    const results = await Promise.all(titles.map((title) => svc.http.put(`${t.path}/Users/${user.id}`).set(t.auth).send(newUser(userName, { title }))));
    expect(results.map((r) => r.status)).toEqual(titles.map(() => 200));
    const got = await svc.http.get(`${t.path}/Users/${user.id}`).set(t.auth);
    expect(titles).toContain(got.body.title);
    expect(versionNumber(got.body.meta.version)).toBe(versionNumber(user.meta.version) + titles.length);
  });

  it('with If-Match of the same starting version exactly one wins; the rest get 412', async () => {
    const userName = `${unique('put-race')}@example.com`;
    const user = await createUser(userName);
    const titles = Array.from({ length: 10 }, (_, i) => `Race ${i}`);
    const results = await Promise.all(
      titles.map((title) => svc.http.put(`${t.path}/Users/${user.id}`).set(t.auth).set('If-Match', user.meta.version).send(newUser(userName, { title }))),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 412)).toBe(true);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(titles.length - 1);

    const winner = results.find((r) => r.status === 200)!;
    const got = await svc.http.get(`${t.path}/Users/${user.id}`).set(t.auth);
    expect(got.body.title).toBe(winner.body.title);
    expect(got.body.meta.version).toBe(winner.body.meta.version);
    expect(versionNumber(got.body.meta.version)).toBe(versionNumber(user.meta.version) + 1);
  });
});

describe('a user deleted while a group PATCH adds it', () => {
  it('answers 204 or 400 invalidValue, never a server error, and leaves no dangling member', async () => {
    // Several rounds, so that some land while the delete is in flight (before the fix this answered 500).
    for (let round = 0; round < 10; round++) {
      const [doomed, stays] = await createUsers(2);
      const group = await createGroup();
      const [del, add] = await Promise.all([
        svc.http.delete(`${t.path}/Users/${doomed}`).set(t.auth),
        patch('Groups', group.id, [{ op: 'add', path: 'members', value: [{ value: stays }, { value: doomed }] }]),
      ]);
      expect(del.status).toBe(204);
      expect([204, 400], JSON.stringify(add.body)).toContain(add.status);
      if (add.status === 400) expect(add.body.scimType).toBe('invalidValue');
      expect(await membersOf(group.id)).toEqual(add.status === 204 ? [stays] : []);
    }
  });
});
