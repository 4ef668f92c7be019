import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CheckpointFile, checkpointFileName, type SigningKey, signCheckpoint, signingKeyFrom, verifyCheckpoint } from '../src/audit/checkpoint.js';
import { auditCheckpointTask, writeCheckpoints } from '../src/audit/checkpoint-files.js';
import { recordAuditEvent } from '../src/audit/record-audit-event.js';
import { verifyAudit } from '../src/audit/verify-chain.js';
import { loadConfig } from '../src/config/load.js';
import { inTenantTx } from '../src/store/transaction.js';
import { runCli } from './helpers/cli.js';
import { startTestService, TEST_MASTER_KEY, type TestService, type TestTenant } from './helpers/test-service.js';

const CLI_TIMEOUT = 60_000;

let svc: TestService;
let scratch: string;
let key: SigningKey;
let privateKeyFile: string;
let publicKeyFile: string;
let otherKey: SigningKey;

function newKey(): SigningKey {
  const made = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
  if ('problem' in made) throw new Error(made.problem);
  return made;
}

beforeAll(async () => {
  svc = await startTestService();
  scratch = mkdtempSync(join(tmpdir(), 'lanyard-audit-'));
  key = newKey();
  otherKey = newKey();
  privateKeyFile = join(scratch, 'signing-key.pem');
  publicKeyFile = join(scratch, 'signing-key.pub.pem');
  writeFileSync(privateKeyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicKeyFile, key.publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => {
  await svc?.close();
  rmSync(scratch, { recursive: true, force: true });
});

let dirs = 0;
function freshDir(): string {
  return join(scratch, `checkpoints-${++dirs}`);
}

/** Events with the awkward characters an export has to carry: commas, quotes, line breaks. */
async function addEvents(tenantId: string, count: number): Promise<void> {
  await inTenantTx(svc.runtime.pool, tenantId, async (db) => {
    for (let i = 0; i < count; i++) {
      recordAuditEvent(db, tenantId, {
        actor: 'operator:test',
        action: 'user.patched',
        resourceType: 'user',
        resourceId: randomUUID(),
        attributes: ['title', 'name.givenName'],
        detail: { note: 'comma, "quote"\nnew line', n: i },
      });
    }
  });
}

/** A tenant whose chain holds its creation, its token and `events` more. */
async function tenantWithEvents(events = 8): Promise<TestTenant> {
  const tenant = await svc.tenant();
  await addEvents(tenant.id, events);
  return tenant;
}

async function headOf(tenantId: string): Promise<{ seq: number; hash: string }> {
  const rows = await svc.sql<{ seq: string; hash: string }>(`SELECT seq, encode(hash, 'hex') AS hash FROM audit_chain_heads WHERE tenant_id = $1`, [tenantId]);
  return { seq: Number(rows[0]!.seq), hash: rows[0]!.hash };
}

const verify = (tenantId: string) => verifyAudit(svc.runtime.pool, tenantId);
const verifyWith = (tenantId: string, dir: string, publicKey = key.publicKey) => verifyAudit(svc.runtime.pool, tenantId, { checkpoints: { dir, publicKey } });

/** Tampering needs the owner (svc.sql): the service's own role may not change audit rows at all. */
async function truncate(tenantId: string, keep: number, opts: { rollBackHead: boolean }): Promise<void> {
  await svc.sql('DELETE FROM audit_events WHERE tenant_id = $1 AND seq > $2', [tenantId, keep]);
  if (opts.rollBackHead) {
    await svc.sql(
      `UPDATE audit_chain_heads h SET seq = e.seq, hash = e.hash FROM audit_events e
        WHERE h.tenant_id = $1 AND e.tenant_id = $1 AND e.seq = $2`,
      [tenantId, keep],
    );
  }
}

/**
 * What someone with the database (but not the signing key) can do: change an event and recompute every
 * hash after it, and the head, so the chain is consistent again.
 */
async function rewrite(tenantId: string, seq: number, edit: (entry: string) => string): Promise<void> {
  const rows = await svc.sql<{ seq: string; entry: string; hash: Buffer }>('SELECT seq, entry, hash FROM audit_events WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq', [
    tenantId,
    seq - 1,
  ]);
  let prev = seq === 1 ? Buffer.alloc(32) : rows.shift()!.hash;
  for (const row of rows) {
    const entry = Number(row.seq) === seq ? edit(row.entry) : row.entry;
    const seqBytes = Buffer.alloc(8);
    seqBytes.writeBigInt64BE(BigInt(row.seq));
    prev = createHash('sha256').update(prev).update(seqBytes).update(entry, 'utf8').digest();
    const parsed = JSON.parse(entry) as { actor: string };
    await svc.sql('UPDATE audit_events SET entry = $3, actor = $4, hash = $5 WHERE tenant_id = $1 AND seq = $2', [tenantId, row.seq, entry, parsed.actor, prev]);
  }
  await svc.sql('UPDATE audit_chain_heads SET hash = $2 WHERE tenant_id = $1', [tenantId, prev]);
}

describe('audit verification of the chain alone', () => {
  it('passes an untouched chain and names its length and head', async () => {
    const t = await tenantWithEvents();
    const head = await headOf(t.id);
    const verdict = await verify(t.id);
    expect(verdict).toMatchObject({ ok: true, chain: { ok: true, events: head.seq, head: head.hash }, checkpoints: null });
  });

  it('catches an UPDATE of an entry', async () => {
    const t = await tenantWithEvents();
    await svc.sql(`UPDATE audit_events SET entry = replace(entry, '"n":3', '"n":30') WHERE tenant_id = $1 AND seq = 6`, [t.id]);
    expect((await verify(t.id)).chain).toEqual({ ok: false, events: 5, brokenAt: 6, reason: 'hash mismatch' });
  });

  it('catches an UPDATE of each query column alone, entry and hash untouched', async () => {
    const t = await tenantWithEvents();
    const changes = [
      ['actor', `'operator:someone-else'`, 'actor'],
      ['action', `'user.deleted'`, 'action'],
      ['resource_type', `'group'`, 'resource_type'],
      ['resource_id', `'${randomUUID()}'`, 'resource_id'],
      ['resource_id', 'NULL', 'resource_id'],
      ['occurred_at', `occurred_at - interval '1 day'`, 'occurred_at'],
    ] as const;
    for (const [column, value, named] of changes) {
      const [before] = await svc.sql(`SELECT ${column} AS v FROM audit_events WHERE tenant_id = $1 AND seq = 5`, [t.id]);
      await svc.sql(`UPDATE audit_events SET ${column} = ${value} WHERE tenant_id = $1 AND seq = 5`, [t.id]);
      expect((await verify(t.id)).chain, column).toEqual({ ok: false, events: 4, brokenAt: 5, reason: `columns disagree with the hashed entry: ${named}` });
      await svc.sql(`UPDATE audit_events SET ${column} = $2 WHERE tenant_id = $1 AND seq = 5`, [t.id, before!['v']]);
      expect((await verify(t.id)).ok, `${column} restored`).toBe(true);
    }
  });

  it('catches a DELETE in the middle', async () => {
    const t = await tenantWithEvents();
    await svc.sql('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 4', [t.id]);
    expect((await verify(t.id)).chain).toMatchObject({ ok: false, events: 3, brokenAt: 4, reason: 'missing event (the next one is seq 5)' });
  });

  it('catches two events swapped, each moved with its own hash', async () => {
    const t = await tenantWithEvents();
    await svc.sql(
      `UPDATE audit_events a SET (occurred_at, actor, action, resource_type, resource_id, entry, hash) =
          (SELECT occurred_at, actor, action, resource_type, resource_id, entry, hash FROM audit_events b
            WHERE b.tenant_id = a.tenant_id AND b.seq = 11 - a.seq)
        WHERE tenant_id = $1 AND seq IN (5, 6)`,
      [t.id],
    );
    expect((await verify(t.id)).chain).toMatchObject({ ok: false, brokenAt: 5, reason: 'hash mismatch' });
  });

  it('catches a truncated tail when the chain head was left where it was', async () => {
    const t = await tenantWithEvents();
    const head = await headOf(t.id);
    await truncate(t.id, head.seq - 3, { rollBackHead: false });
    expect((await verify(t.id)).chain).toEqual({
      ok: false,
      events: head.seq - 3,
      brokenAt: head.seq - 2,
      reason: `truncated: the chain head is at seq ${head.seq} but the chain ends at seq ${head.seq - 3}`,
    });
  });

  it('reads a long chain in batches, through every batch boundary', async () => {
    const t = await svc.tenant();
    for (let i = 0; i < 5; i++) await addEvents(t.id, 4_000);
    const head = await headOf(t.id);
    expect(await verify(t.id)).toMatchObject({ ok: true, chain: { events: head.seq, head: head.hash } });
    // Just past the first batch of 10,000, so the break is found in a prefetched batch.
    await svc.sql(`UPDATE audit_events SET entry = replace(entry, 'comma', 'COMMA') WHERE tenant_id = $1 AND seq = 10001`, [t.id]);
    expect((await verify(t.id)).chain).toMatchObject({ ok: false, brokenAt: 10_001, reason: 'hash mismatch' });
  });
});

describe('audit verification with signed checkpoints', () => {
  it('catches a truncated tail with the head rolled back to match, which the chain alone cannot', async () => {
    const t = await tenantWithEvents();
    const dir = freshDir();
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    const head = await headOf(t.id);
    await truncate(t.id, head.seq - 3, { rollBackHead: true });

    expect((await verify(t.id)).ok).toBe(true);
    const verdict = await verifyWith(t.id, dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.chain).toMatchObject({ ok: false, events: head.seq - 3, brokenAt: head.seq - 2 });
    expect(!verdict.chain.ok && verdict.chain.reason).toMatch(new RegExp(`^truncated: checkpoint at seq ${head.seq} \\(.+\\) but the chain ends at seq ${head.seq - 3}$`));
  });

  it('catches a chain rewritten with every later hash recomputed, between the checkpoints that bracket the change', async () => {
    const t = await tenantWithEvents(4);
    const dir = freshDir();
    const [first] = await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    await addEvents(t.id, 4);
    const [second] = await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    await addEvents(t.id, 2);
    const target = first!.seq + 2;
    await rewrite(t.id, target, (entry) => entry.replace('"actor":"operator:test"', '"actor":"operator:scapegoat"'));

    expect((await verify(t.id)).ok).toBe(true);
    const verdict = await verifyWith(t.id, dir);
    expect(verdict.chain).toMatchObject({ ok: false, brokenAt: first!.seq + 1 });
    expect(!verdict.chain.ok && verdict.chain.reason).toMatch(
      new RegExp(`^rewritten: seq ${second!.seq} differs from its checkpoint of .+; the change lies between seq ${first!.seq + 1} and ${second!.seq}$`),
    );
  });

  it('reports a checkpoint signed with another key, and does not trust what it claims', async () => {
    const t = await tenantWithEvents();
    const dir = freshDir();
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    const head = await headOf(t.id);
    // Trusted, this forged claim of a longer chain would make verification report a truncation.
    const forged = signCheckpoint({ tenantId: t.id, seq: head.seq + 5, hash: 'ee'.repeat(32), createdAt: new Date().toISOString() }, otherKey);
    writeFileSync(join(dir, checkpointFileName(t.id, head.seq + 5)), JSON.stringify(forged));

    const verdict = await verifyWith(t.id, dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.chain).toMatchObject({ ok: true, events: head.seq });
    expect(verdict.checkpoints).toMatchObject({
      keyId: key.keyId,
      trusted: 1,
      latest: { seq: head.seq, hash: head.hash },
      rejected: [{ file: checkpointFileName(t.id, head.seq + 5), reason: `bad signature: signed by key ${otherKey.keyId}, not the trusted key ${key.keyId}` }],
    });
  });

  it('rejects a genuine checkpoint edited after signing, or filed under another tenant, and ignores other files', async () => {
    const t = await tenantWithEvents();
    const other = await tenantWithEvents(2);
    const dir = freshDir();
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id, other.id] });
    await addEvents(t.id, 1);
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    const head = await headOf(t.id);
    const file = join(dir, checkpointFileName(t.id, head.seq));
    const edited = { ...(JSON.parse(readFileSync(file, 'utf8')) as CheckpointFile), hash: 'dd'.repeat(32) };
    writeFileSync(file, JSON.stringify(edited));
    const otherHead = await headOf(other.id);
    const misfiled = checkpointFileName(t.id, otherHead.seq + 100);
    writeFileSync(join(dir, misfiled), readFileSync(join(dir, checkpointFileName(other.id, otherHead.seq))));
    writeFileSync(join(dir, 'README.txt'), 'not a checkpoint');

    const verdict = await verifyWith(t.id, dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.chain.ok).toBe(true);
    expect(verdict.checkpoints?.trusted).toBe(1);
    expect(verdict.checkpoints?.rejected).toEqual([
      { file: checkpointFileName(t.id, head.seq), reason: 'bad signature: the checkpoint was altered after signing' },
      { file: misfiled, reason: `signed for tenant ${other.id}, filed under ${t.id}` },
    ]);
    expect(await verifyWith(other.id, dir)).toMatchObject({ ok: true, checkpoints: { trusted: 1, rejected: [] } });
  });

  it('needs only the public key', async () => {
    const t = await tenantWithEvents();
    const dir = freshDir();
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    expect(await verifyWith(t.id, dir, key.publicKey)).toMatchObject({ ok: true, checkpoints: { trusted: 1 } });
    expect(await verifyWith(t.id, dir, otherKey.publicKey)).toMatchObject({ ok: false, checkpoints: { trusted: 0, rejected: [{}] } });
  });
});

describe('writing checkpoints', () => {
  it('writes one signed file per tenant only when its head moved, named by tenant and seq, leaving no temporary file', async () => {
    const a = await tenantWithEvents(3);
    const b = await tenantWithEvents(1);
    const dir = freshDir();
    const first = await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [a.id, b.id] });
    const headA = await headOf(a.id);
    const headB = await headOf(b.id);
    expect(first).toEqual([
      { tenantId: a.id, status: 'written', seq: headA.seq, file: checkpointFileName(a.id, headA.seq) },
      { tenantId: b.id, status: 'written', seq: headB.seq, file: checkpointFileName(b.id, headB.seq) },
    ]);
    const content = JSON.parse(readFileSync(join(dir, checkpointFileName(a.id, headA.seq)), 'utf8')) as CheckpointFile;
    expect(content).toMatchObject({ version: 1, tenantId: a.id, seq: headA.seq, hash: headA.hash, keyId: key.keyId });
    expect(verifyCheckpoint(content, key.publicKey).ok).toBe(true);

    expect(await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [a.id, b.id] })).toEqual([
      { tenantId: a.id, status: 'unchanged', seq: headA.seq },
      { tenantId: b.id, status: 'unchanged', seq: headB.seq },
    ]);
    await addEvents(a.id, 2);
    const third = await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [a.id, b.id] });
    expect(third.map((r) => r.status)).toEqual(['written', 'unchanged']);
    expect(readdirSync(dir).sort()).toEqual(
      [checkpointFileName(a.id, headA.seq), checkpointFileName(a.id, headA.seq + 2), checkpointFileName(b.id, headB.seq)].sort(),
    );
  });

  it('checkpoints every tenant when none is named', async () => {
    const t = await tenantWithEvents(1);
    const dir = freshDir();
    const results = await writeCheckpoints(svc.runtime.pool, { dir, key });
    const tenants = await svc.sql<{ id: string }>('SELECT id FROM tenants');
    expect(results.map((r) => r.tenantId).sort()).toEqual(tenants.map((r) => r.id).sort());
    expect(results.find((r) => r.tenantId === t.id)?.status).toBe('written');
  });

  it('refuses to sign a head that fell behind its last checkpoint', async () => {
    const t = await tenantWithEvents();
    const dir = freshDir();
    await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
    const head = await headOf(t.id);
    await truncate(t.id, head.seq - 2, { rollBackHead: true });
    expect(await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] })).toEqual([
      { tenantId: t.id, status: 'diverged', seq: head.seq - 2, reason: `the chain head (seq ${head.seq - 2}) is behind the last checkpoint (seq ${head.seq})` },
    ]);
    expect(readdirSync(dir)).toEqual([checkpointFileName(t.id, head.seq)]);
  });

  it('gives the worker a task only when both the key and the directory are configured', async () => {
    const dir = freshDir();
    const config = (env: Record<string, string>) => loadConfig({ LANYARD_MASTER_KEY: TEST_MASTER_KEY, ...env }).audit;
    expect(config({}).checkpointIntervalMs).toBe(15 * 60_000);
    expect(await auditCheckpointTask(svc.runtime.pool, config({ AUDIT_CHECKPOINT_DIR: dir }))).toBeNull();
    expect(await auditCheckpointTask(svc.runtime.pool, config({ AUDIT_SIGNING_KEY_FILE: privateKeyFile }))).toBeNull();
    await expect(auditCheckpointTask(svc.runtime.pool, config({ AUDIT_SIGNING_KEY_FILE: publicKeyFile, AUDIT_CHECKPOINT_DIR: dir }))).rejects.toThrow(
      /^AUDIT_SIGNING_KEY_FILE: .*not an unencrypted PEM private key$/,
    );
    const task = await auditCheckpointTask(svc.runtime.pool, config({ AUDIT_SIGNING_KEY_FILE: privateKeyFile, AUDIT_CHECKPOINT_DIR: dir, AUDIT_CHECKPOINT_INTERVAL: '5m' }));
    expect(task?.everyMs).toBe(5 * 60_000);
    const t = await tenantWithEvents(1);
    expect((await task!.run()).find((r) => r.tenantId === t.id)?.status).toBe('written');
  });
});

/** RFC 4180: quoted cells may hold commas, doubled quotes and line breaks; rows end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (text[i + 1] === '"') cell += text[++i];
      else quoted = false;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',' || (ch === '\r' && text[i + 1] === '\n')) {
      row.push(cell);
      cell = '';
      if (ch === '\r') {
        rows.push(row);
        row = [];
        i++;
      }
    } else {
      cell += ch;
    }
  }
  expect(cell, 'the last row ends with CRLF').toBe('');
  return rows;
}

describe('lanyard audit', () => {
  const lanyard = (args: string[], env: Record<string, string> = {}) => runCli(args, { DATABASE_URL: svc.database.url, LANYARD_MASTER_KEY: TEST_MASTER_KEY, ...env });

  async function entries(tenantId: string): Promise<{ seq: number; hash: string; entry: Record<string, unknown> }[]> {
    const rows = await svc.sql<{ seq: string; hash: string; entry: string }>(`SELECT seq, encode(hash, 'hex') AS hash, entry FROM audit_events WHERE tenant_id = $1 ORDER BY seq`, [
      tenantId,
    ]);
    return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, entry: JSON.parse(r.entry) as Record<string, unknown> }));
  }

  it(
    'verify exits 0 on an intact trail, and non-zero naming the first broken seq and why',
    async () => {
      const t = await tenantWithEvents();
      const intact = await lanyard(['audit', 'verify', t.slug]);
      expect(intact).toMatchObject({ code: 0, stderr: '' });
      expect(intact.stdout).toMatch(new RegExp(`^${t.slug}: audit chain intact, ${(await headOf(t.id)).seq} events`));

      await svc.sql(`UPDATE audit_events SET entry = replace(entry, '"n":2', '"n":20') WHERE tenant_id = $1 AND seq = 5`, [t.id]);
      const human = await lanyard(['audit', 'verify', t.slug]);
      expect(human.code).toBe(1);
      expect(human.stdout).toContain(`${t.slug}: audit chain BROKEN at seq 5: hash mismatch`);
      const json = await lanyard(['audit', 'verify', t.slug, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ tenant: t.slug, tenantId: t.id, ok: false, events: 4, brokenAt: 5, reason: 'hash mismatch', checkpoints: null });
    },
    CLI_TIMEOUT,
  );

  it(
    'verify --checkpoints --public-key reports a truncated tail, and a missing tenant is a clear error',
    async () => {
      const t = await tenantWithEvents();
      const dir = freshDir();
      await writeCheckpoints(svc.runtime.pool, { dir, key, tenantIds: [t.id] });
      const head = await headOf(t.id);
      await truncate(t.id, head.seq - 2, { rollBackHead: true });
      expect((await lanyard(['audit', 'verify', t.slug])).code).toBe(0);
      const result = await lanyard(['audit', 'verify', t.slug, '--checkpoints', dir, '--public-key', publicKeyFile, '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({
        ok: false,
        brokenAt: head.seq - 1,
        reason: expect.stringMatching(new RegExp(`^truncated: checkpoint at seq ${head.seq} `)),
        checkpoints: { trusted: 1, keyId: key.keyId, rejected: [] },
      });
      for (const secret of ['PRIVATE KEY', key.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64').slice(-20)]) {
        expect(result.stdout + result.stderr).not.toContain(secret);
      }

      const missing = await lanyard(['audit', 'verify', 'no-such-tenant', '--json']);
      expect(missing.code).toBe(3);
      expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'not_found', message: 'no tenant "no-such-tenant"' } });
    },
    CLI_TIMEOUT,
  );

  it(
    'checkpoint writes files only when the head moved, and needs AUDIT_SIGNING_KEY_FILE',
    async () => {
      const t = await tenantWithEvents(2);
      const dir = freshDir();
      const env = { AUDIT_SIGNING_KEY_FILE: privateKeyFile };
      const first = await lanyard(['audit', 'checkpoint', t.slug, '--dir', dir], env);
      const head = await headOf(t.id);
      expect(first).toMatchObject({ code: 0, stdout: `${t.slug}: checkpoint at seq ${head.seq} written (${checkpointFileName(t.id, head.seq)})\n` });
      expect(readdirSync(dir)).toEqual([checkpointFileName(t.id, head.seq)]);

      const again = await lanyard(['audit', 'checkpoint', t.slug, '--json'], { ...env, AUDIT_CHECKPOINT_DIR: dir });
      expect(JSON.parse(again.stdout)).toEqual({ dir, keyId: key.keyId, tenants: [{ tenant: t.slug, tenantId: t.id, status: 'unchanged', seq: head.seq }] });
      expect(readdirSync(dir)).toHaveLength(1);

      await addEvents(t.id, 1);
      expect((await lanyard(['audit', 'checkpoint', t.slug, '--dir', dir], env)).code).toBe(0);
      expect(readdirSync(dir).sort()).toEqual([checkpointFileName(t.id, head.seq), checkpointFileName(t.id, head.seq + 1)]);

      const unsigned = await lanyard(['audit', 'checkpoint', t.slug, '--dir', dir]);
      expect(unsigned.code).toBe(78);
      expect(unsigned.stderr).toContain('AUDIT_SIGNING_KEY_FILE');
    },
    CLI_TIMEOUT,
  );

  it(
    'export --format jsonl writes every event in seq order, as the hashed entries say, to stdout or --out',
    async () => {
      const t = await tenantWithEvents(5);
      const stored = await entries(t.id);
      const result = await lanyard(['audit', 'export', t.slug, '--format', 'jsonl']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const lines = result.stdout.split('\n');
      expect(lines.pop()).toBe('');
      const exported = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(exported).toEqual(
        stored.map(({ seq, hash, entry }) => ({
          seq,
          occurredAt: entry['occurredAt'],
          actor: entry['actor'],
          action: entry['action'],
          resourceType: entry['resourceType'],
          resourceId: entry['resourceId'],
          attributes: entry['attributes'],
          detail: entry['detail'],
          hash,
        })),
      );
      expect(exported.at(-1)).toMatchObject({ detail: { note: 'comma, "quote"\nnew line', n: 4 }, attributes: ['title', 'name.givenName'] });

      const file = join(scratch, `${t.slug}.jsonl`);
      const toFile = await lanyard(['audit', 'export', t.slug, '--format', 'jsonl', '--out', file, '--json']);
      expect(JSON.parse(toFile.stdout)).toEqual({ tenant: t.slug, events: stored.length, file, format: 'jsonl' });
      expect(readFileSync(file, 'utf8')).toBe(result.stdout);
    },
    CLI_TIMEOUT,
  );

  it(
    'export --format csv is RFC 4180 and parses back to the same events',
    async () => {
      const t = await tenantWithEvents(3);
      const stored = await entries(t.id);
      const result = await lanyard(['audit', 'export', t.slug, '--format', 'csv']);
      expect(result.code).toBe(0);
      const [header, ...rows] = parseCsv(result.stdout);
      expect(header).toEqual(['seq', 'occurredAt', 'actor', 'action', 'resourceType', 'resourceId', 'attributes', 'detail', 'hash']);
      expect(rows).toEqual(
        stored.map(({ seq, hash, entry }) => [
          String(seq),
          entry['occurredAt'],
          entry['actor'],
          entry['action'],
          entry['resourceType'],
          entry['resourceId'] ?? '',
          JSON.stringify(entry['attributes']),
          JSON.stringify(entry['detail']),
          hash,
        ]),
      );
      expect(JSON.parse(rows.at(-1)![7]!)).toEqual({ note: 'comma, "quote"\nnew line', n: 2 });
    },
    CLI_TIMEOUT,
  );

  it(
    'export --since keeps the events since a date or a duration ago',
    async () => {
      const t = await svc.tenant();
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date(Date.now() - 30 * 86_400_000));
        await addEvents(t.id, 3);
      } finally {
        vi.useRealTimers();
      }
      await addEvents(t.id, 2);
      const stored = await entries(t.id);
      const recent = stored.filter(({ entry }) => Date.parse(entry['occurredAt'] as string) > Date.now() - 86_400_000).map((e) => e.seq);
      expect(recent).toHaveLength(stored.length - 3);
      const seqs = (stdout: string) => stdout.trim().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);

      const week = await lanyard(['audit', 'export', t.slug, '--format', 'jsonl', '--since', '7d']);
      expect(seqs(week.stdout)).toEqual(recent);
      const sinceDate = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
      expect(seqs((await lanyard(['audit', 'export', t.slug, '--format', 'jsonl', '--since', sinceDate])).stdout)).toEqual(recent);
      expect(seqs((await lanyard(['audit', 'export', t.slug, '--format', 'jsonl', '--since', '2000-01-01'])).stdout)).toEqual(stored.map((e) => e.seq));

      const bad = await lanyard(['audit', 'export', t.slug, '--format', 'jsonl', '--since', 'last tuesday']);
      expect(bad.code).toBe(2);
    },
    CLI_TIMEOUT,
  );
});
