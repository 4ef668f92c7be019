import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CORE_GROUP, CORE_USER, PATCH_OP } from '../src/scim/schemas.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

/** Every SCIM change that can affect access marks the affected users, in the same transaction as the change. */
let svc: TestService;
let t: TestTenant;

async function newUser(userName: string): Promise<string> {
  const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [CORE_USER], userName });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function marked(): Promise<Map<string, { cause: string; markedAt: Date }>> {
  const rows = await svc.sql<{ user_id: string; cause: string; marked_at: Date }>('SELECT user_id, cause, marked_at FROM reconcile_outbox WHERE tenant_id = $1', [t.id]);
  return new Map(rows.map((r) => [r.user_id, { cause: r.cause, markedAt: r.marked_at }]));
}

async function patchGroup(id: string, Operations: unknown[]) {
  return svc.http.patch(`${t.path}/Groups/${id}`).set(t.auth).send({ schemas: [PATCH_OP], Operations });
}

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
beforeEach(async () => {
  await svc.sql('DELETE FROM reconcile_outbox');
});
afterAll(() => svc.close());

describe('marking users for reconciliation', () => {
  it('marks a user on create, on every change, and on delete; a change that changes nothing marks nothing', async () => {
    const id = await newUser('marked@example.com');
    expect((await marked()).get(id)?.cause).toBe('user.created');
    const first = (await marked()).get(id)!.markedAt;

    await svc.http.patch(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    const second = (await marked()).get(id)!;
    expect(second.cause).toBe('user.patched');
    expect(second.markedAt.getTime()).toBeGreaterThan(first.getTime());

    await svc.sql('DELETE FROM reconcile_outbox');
    await svc.http.put(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [CORE_USER], userName: 'marked@example.com', active: false });
    expect((await marked()).size).toBe(0);

    await svc.http.delete(`${t.path}/Users/${id}`).set(t.auth);
    expect((await marked()).get(id)?.cause).toBe('user.deleted');
  });

  it('marks nothing for a request that fails', async () => {
    await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [CORE_USER] });
    const a = await newUser('fail-a@example.com');
    await svc.sql('DELETE FROM reconcile_outbox');
    const group = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [CORE_GROUP], displayName: 'Atomic' });
    await svc.sql('DELETE FROM reconcile_outbox');
    // A valid add and an invalid one in one request: the request fails whole, and marks no one.
    const res = await patchGroup(group.body.id, [
      { op: 'add', path: 'members', value: [{ value: a }] },
      { op: 'add', path: 'members', value: [{ value: crypto.randomUUID() }] },
    ]);
    expect(res.status).toBe(400);
    expect((await marked()).size).toBe(0);
  });

  it('marks exactly the users a membership change adds or removes, not the other members', async () => {
    const [a, b, c] = [await newUser('m-a@example.com'), await newUser('m-b@example.com'), await newUser('m-c@example.com')];
    const group = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [CORE_GROUP], displayName: 'Members', members: [{ value: a }] });
    expect([...(await marked()).keys()].sort()).toEqual([a, b, c].sort()); // a by the group, all three by their creation
    expect((await marked()).get(a)?.cause).toBe('group.created');

    await svc.sql('DELETE FROM reconcile_outbox');
    await patchGroup(group.body.id, [
      { op: 'add', path: 'members', value: [{ value: b }] },
      { op: 'remove', path: `members[value eq "${a}"]` },
    ]);
    expect([...(await marked()).keys()].sort()).toEqual([a, b].sort());

    await svc.sql('DELETE FROM reconcile_outbox');
    await patchGroup(group.body.id, [{ op: 'add', path: 'members', value: [{ value: b }] }]);
    expect((await marked()).size).toBe(0);
  });

  it('marks every member when a group is renamed or deleted', async () => {
    const [a, b] = [await newUser('r-a@example.com'), await newUser('r-b@example.com')];
    const outsider = await newUser('r-out@example.com');
    const group = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [CORE_GROUP], displayName: 'Renamed', members: [{ value: a }, { value: b }] });
    await svc.sql('DELETE FROM reconcile_outbox');
    await patchGroup(group.body.id, [{ op: 'replace', path: 'displayName', value: 'Renamed Again' }]);
    expect([...(await marked()).keys()].sort()).toEqual([a, b].sort());

    await svc.sql('DELETE FROM reconcile_outbox');
    await svc.http.delete(`${t.path}/Groups/${group.body.id}`).set(t.auth);
    const after = await marked();
    expect([...after.keys()].sort()).toEqual([a, b].sort());
    expect(after.get(a)?.cause).toBe('group.deleted');
    expect(after.has(outsider)).toBe(false);
  });

  it('marks every user of the tenant, and only of the tenant, when a policy is applied', async () => {
    const other = await svc.tenant();
    await svc.http.post(`${other.path}/Users`).set(other.auth).send({ schemas: [CORE_USER], userName: 'elsewhere@example.com' });
    await svc.sql('DELETE FROM reconcile_outbox');
    const users = (await svc.sql<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1', [t.id])).map((r) => r.id);
    await svc.runtime.policies.apply(t.slug, readFileSync(new URL('../config/globex-partners.policy.yaml', import.meta.url), 'utf8'), 'operator:test');
    const all = await svc.sql<{ tenant_id: string; cause: string }>('SELECT tenant_id, cause FROM reconcile_outbox');
    expect(all.every((r) => r.tenant_id === t.id && r.cause === 'policy.applied')).toBe(true);
    expect(all).toHaveLength(users.length);
  });
});
