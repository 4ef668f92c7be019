import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAuditEvent } from '../src/audit/record-audit-event.js';
import { verifyAuditChain } from '../src/audit/verify-chain.js';
import { inTenantTx } from '../src/store/transaction.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let svc: TestService;
let t: TestTenant;

beforeAll(async () => {
  svc = await startTestService();
  t = await svc.tenant();
});
afterAll(() => svc.close());

interface EventRow {
  seq: number;
  actor: string;
  action: string;
  resource_id: string | null;
  entry: string;
}

async function events(tenantId: string): Promise<EventRow[]> {
  return svc.sql<EventRow>('SELECT seq, actor, action, resource_id, entry FROM audit_events WHERE tenant_id = $1 ORDER BY seq', [tenantId]);
}

/** Verification runs through the service's own role, as `lanyard audit verify` will. */
async function verify(tenantId: string) {
  const client = await svc.runtime.pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SELECT set_config('lanyard.tenant_id', $1, true)`, [tenantId]);
    return await verifyAuditChain(client, tenantId);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('audit trail of SCIM writes', () => {
  it('records every write in the same transaction: who, what, which resource, which attributes — never values', async () => {
    const created = await svc.http
      .post(`${t.path}/Users`)
      .set(t.auth)
      .send({ schemas: [USER], userName: 'audited@example.com', name: { givenName: 'Secretive' }, title: 'Hidden Title' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await svc.http.patch(`${t.path}/Users/${id}`).set(t.auth).send({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Changed' }] });
    await svc.http.delete(`${t.path}/Users/${id}`).set(t.auth);

    const rows = (await events(t.id)).filter((e) => e.resource_id === id);
    expect(rows.map((r) => r.action)).toEqual(['user.created', 'user.patched', 'user.deleted']);
    for (const row of rows) {
      expect(row.actor).toBe(`scim-token:${t.tokenId}`);
      for (const secret of ['audited@example.com', 'Secretive', 'Changed', 'Hidden Title']) expect(row.entry).not.toContain(secret);
    }
    expect(JSON.parse(rows[0]!.entry).attributes).toEqual(expect.arrayContaining(['userName', 'name', 'title']));
    expect(JSON.parse(rows[1]!.entry).attributes).toEqual(['name.givenName']);
  });

  it('writes nothing for a request that fails, and nothing for a write that changes nothing', async () => {
    const before = (await events(t.id)).length;
    await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [USER] });
    const created = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [USER], userName: 'same@example.com', title: 'A' });
    await svc.http.put(`${t.path}/Users/${created.body.id}`).set(t.auth).send({ schemas: [USER], userName: 'same@example.com', title: 'A' });
    expect((await events(t.id)).length).toBe(before + 1);
  });

  it('chains each tenant separately, gap-free, in commit order, even under concurrent writes', async () => {
    const other = await svc.tenant();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const target = i % 2 ? t : other;
        return svc.http.post(`${target.path}/Users`).set(target.auth).send({ schemas: [USER], userName: `chain${i}@example.com` });
      }),
    );
    for (const tenant of [t, other]) {
      const rows = await events(tenant.id);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      const verdict = await verify(tenant.id);
      expect(verdict).toMatchObject({ ok: true, events: rows.length });
    }
  });

  it('verification finds the first modified, deleted or reordered event', async () => {
    const victim = await svc.tenant();
    for (let i = 0; i < 5; i++) await svc.http.post(`${victim.path}/Users`).set(victim.auth).send({ schemas: [USER], userName: `v${i}@example.com` });
    expect((await verify(victim.id)).ok).toBe(true);

    // Tampering needs the owner (svc.sql): the service's own role may not change audit rows at all.
    await svc.sql(`UPDATE audit_events SET entry = replace(entry, 'user.created', 'user.deleted') WHERE tenant_id = $1 AND seq = 4`, [victim.id]);
    expect(await verify(victim.id)).toMatchObject({ ok: false, brokenAt: 4 });
    await svc.sql(`UPDATE audit_events SET entry = replace(entry, 'user.deleted', 'user.created') WHERE tenant_id = $1 AND seq = 4`, [victim.id]);
    expect((await verify(victim.id)).ok).toBe(true);

    await svc.sql(`UPDATE audit_events SET action = 'user.deleted' WHERE tenant_id = $1 AND seq = 5`, [victim.id]);
    expect(await verify(victim.id)).toMatchObject({ ok: false, brokenAt: 5 });
    await svc.sql(`UPDATE audit_events SET action = 'user.created' WHERE tenant_id = $1 AND seq = 5`, [victim.id]);

    // Reordering: events 2 and 3 trade places, each with its own hash.
    const swap = `UPDATE audit_events a SET (occurred_at, actor, action, resource_type, resource_id, entry, hash) =
        (SELECT occurred_at, actor, action, resource_type, resource_id, entry, hash FROM audit_events b
          WHERE b.tenant_id = a.tenant_id AND b.seq = 5 - a.seq)
      WHERE tenant_id = $1 AND seq IN (2, 3)`;
    await svc.sql(swap, [victim.id]);
    expect(await verify(victim.id)).toMatchObject({ ok: false, brokenAt: 2 });
    await svc.sql(swap, [victim.id]);
    expect((await verify(victim.id)).ok).toBe(true);

    await svc.sql('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 3', [victim.id]);
    expect(await verify(victim.id)).toMatchObject({ ok: false, brokenAt: 3 });
  });
});

describe('appending at commit', () => {
  const event = (action: string) => ({ actor: 'operator:test', action, resourceType: 'tenant' as const, resourceId: null });

  it('does not hold the chain head while the transaction works: a later writer commits first and comes first', async () => {
    const tenant = await svc.tenant();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let recorded!: () => void;
    const hasRecorded = new Promise<void>((resolve) => (recorded = resolve));
    const slow = inTenantTx(svc.runtime.pool, tenant.id, async (db) => {
      recordAuditEvent(db, tenant.id, event('tenant.slow_write'));
      recorded();
      await held;
    });
    await hasRecorded;
    // With the head taken at the first event, this would wait for `slow` and time out.
    const quick = inTenantTx(svc.runtime.pool, tenant.id, async (db) => recordAuditEvent(db, tenant.id, event('tenant.quick_write')));
    await expect(Promise.race([quick.then(() => 'committed'), new Promise((r) => setTimeout(() => r('blocked'), 2_000))])).resolves.toBe('committed');
    release();
    await slow;
    const actions = (await events(tenant.id)).map((e) => e.action);
    expect(actions.slice(-2)).toEqual(['tenant.quick_write', 'tenant.slow_write']);
    expect((await verify(tenant.id)).ok).toBe(true);
  });

  it('appends a transaction’s events in the order recorded, and a failed append rolls the change back', async () => {
    const tenant = await svc.tenant();
    await inTenantTx(svc.runtime.pool, tenant.id, async (db) => {
      for (const action of ['tenant.first', 'tenant.second', 'tenant.third']) recordAuditEvent(db, tenant.id, event(action));
    });
    expect((await events(tenant.id)).map((e) => e.action).slice(-3)).toEqual(['tenant.first', 'tenant.second', 'tenant.third']);

    // An event for a tenant outside the transaction's row-level-security context cannot be appended: the
    // whole transaction, with the change it records, is rolled back and the error reaches the caller.
    const other = await svc.tenant();
    const before = (await events(tenant.id)).length;
    const write = inTenantTx(svc.runtime.pool, tenant.id, async (db) => {
      await db.query(`UPDATE tenants SET name = 'renamed' WHERE id = $1`, [tenant.id]);
      recordAuditEvent(db, tenant.id, event('tenant.lost'));
      recordAuditEvent(db, other.id, event('tenant.foreign'));
    });
    await expect(write).rejects.toThrow(/audit chain head missing/);
    expect((await events(tenant.id)).length).toBe(before);
    expect((await svc.sql<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [tenant.id]))[0]!.name).not.toBe('renamed');
    expect((await verify(tenant.id)).ok).toBe(true);
    // The connection went back to the pool usable.
    await inTenantTx(svc.runtime.pool, tenant.id, async (db) => recordAuditEvent(db, tenant.id, event('tenant.after')));
    expect((await events(tenant.id)).at(-1)!.action).toBe('tenant.after');
  });
});
