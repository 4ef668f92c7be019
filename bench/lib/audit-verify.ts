import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { signingKeyFrom } from '../../src/audit/checkpoint.js';
import { writeCheckpoints } from '../../src/audit/checkpoint-files.js';
import { verifyAudit } from '../../src/audit/verify-chain.js';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/runtime.js';
import { databaseUrl, dropDatabase } from '../../test/helpers/databases.js';

const DB = 'lanyard_bench_audit';
const BATCH = 20_000;
const TARGET_SECONDS = 60;

const log = (message: string) => process.stderr.write(`[bench:audit] ${new Date().toISOString().slice(11, 19)} ${message}\n`);

/**
 * Appends `count` events to a tenant's chain straight through the owner connection, hashed exactly as
 * lanyard_append_audit hashes them: appending a million through the service would measure the service.
 * Each batch is built while the previous one is being inserted.
 */
async function seedChain(admin: pg.Client, tenantId: string, count: number): Promise<void> {
  const { rows } = await admin.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1', [tenantId]);
  let seq = Number(rows[0]!.seq);
  let prev = rows[0]!.hash;
  const actor = `scim-token:${randomUUID()}`;
  const start = Date.now() - count;
  const seqBytes = Buffer.alloc(8);
  let inFlight: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < count; ) {
    const size = Math.min(BATCH, count - done);
    const columns = { seq: [] as number[], at: [] as string[], action: [] as string[], id: [] as string[], entry: [] as string[], hash: [] as string[] };
    for (let i = 0; i < size; i++) {
      seq += 1;
      const occurredAt = new Date(start + done + i).toISOString();
      const resourceId = randomUUID();
      const action = i % 10 === 0 ? 'user.created' : 'user.patched';
      const entry = canonicalJson({ tenantId, occurredAt, actor, action, resourceType: 'user', resourceId, attributes: ['name.givenName', 'title'], detail: {} });
      seqBytes.writeBigInt64BE(BigInt(seq));
      prev = createHash('sha256').update(prev).update(seqBytes).update(entry, 'utf8').digest();
      columns.seq.push(seq);
      columns.at.push(occurredAt);
      columns.action.push(action);
      columns.id.push(resourceId);
      columns.entry.push(entry);
      columns.hash.push(prev.toString('hex'));
    }
    await inFlight;
    inFlight = admin.query(
      `INSERT INTO audit_events (tenant_id, seq, occurred_at, actor, action, resource_type, resource_id, entry, hash)
       SELECT $1, s, o, $2, a, 'user', r, e, decode(h, 'hex')
         FROM unnest($3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(s, o, a, r, e, h)`,
      [tenantId, actor, columns.seq, columns.at, columns.action, columns.id, columns.entry, columns.hash],
    );
    done += size;
    if (done % 200_000 === 0) log(`${done} events`);
  }
  await inFlight;
  await admin.query('UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1', [tenantId, seq, prev]);
}

/**
 * Verification of one tenant's audit trail of `events` events, as `lanyard audit verify --checkpoints`
 * runs it (the chain recomputed, checked against a signed checkpoint of its head), on a database of its own.
 */
export async function benchAuditVerify(opts: { events: number }): Promise<Record<string, unknown>> {
  await dropDatabase(DB);
  const config = loadConfig({ DATABASE_URL: databaseUrl(DB), LANYARD_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), LOG_LEVEL: 'silent' });
  const runtime = await openRuntime(config, pino({ level: 'silent' }));
  const admin = new pg.Client({ connectionString: databaseUrl(DB) });
  await admin.connect();
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-bench-audit-'));
  try {
    const tenant = await runtime.tenants.create({ slug: 'bench-audit' }, 'operator:bench');
    log(`seeding ${opts.events} events`);
    const seedStarted = performance.now();
    await seedChain(admin, tenant.id, opts.events);
    await admin.query('VACUUM ANALYZE audit_events');
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const key = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
    if ('problem' in key) throw new Error(key.problem);
    await writeCheckpoints(runtime.pool, { dir, key, tenantIds: [tenant.id] });

    log('verifying');
    const started = performance.now();
    const verdict = await verifyAudit(runtime.pool, tenant.id, { checkpoints: { dir, publicKey: key.publicKey } });
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const events = verdict.chain.events;
    return {
      machine: { cpus: cpus().length, node: process.version },
      events,
      seconds,
      eventsPerSecond: Math.round(events / seconds),
      verified: verdict.ok,
      checkpointsTrusted: verdict.checkpoints?.trusted ?? 0,
      seedSeconds: Math.round(seedSeconds),
      target: { seconds: TARGET_SECONDS },
      met: verdict.ok && events >= opts.events && seconds <= TARGET_SECONDS,
    };
  } finally {
    await admin.end();
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
    await dropDatabase(DB);
  }
}
