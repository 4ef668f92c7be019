import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { AuditConfig } from '../config/schema.js';
import { ConfigError } from '../errors/config-error.js';
import { DomainError } from '../errors/domain-error.js';
import { listTenants } from '../store/tenants-store.js';
import { inTenantTx, inTx } from '../store/transaction.js';
import {
  type Checkpoint,
  checkpointFileName,
  parseCheckpointFileName,
  type SigningKey,
  signCheckpoint,
  signingKeyFrom,
  verifyCheckpoint,
} from './checkpoint.js';

/**
 * Where a key comes from, so a problem is reported against what the operator gave: a setting (a
 * configuration error, exit 78) or a command-line file (invalid input).
 */
export interface KeySource {
  file: string;
  /** The environment variable that named the file, if it came from the configuration. */
  setting?: string;
}

function keyProblem(source: KeySource, problem: string): Error {
  return source.setting ? new ConfigError(source.setting, `${source.file}: ${problem}`) : new DomainError('invalid_input', `${source.file}: ${problem}`);
}

async function readKeyText(source: KeySource): Promise<string> {
  try {
    return await readFile(source.file, 'utf8');
  } catch (err) {
    throw keyProblem(source, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The private key that signs checkpoints. Error messages never quote the file's content. */
export async function loadSigningKey(source: KeySource): Promise<SigningKey> {
  const text = await readKeyText(source);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch {
    throw keyProblem(source, 'not an unencrypted PEM private key');
  }
  const key = signingKeyFrom(privateKey);
  if ('problem' in key) throw keyProblem(source, key.problem);
  return key;
}

/**
 * The public key checkpoints are verified with, from a public key file or, for convenience on the machine
 * that signs, from the private key file itself.
 */
export async function loadVerifyingKey(source: KeySource): Promise<KeyObject> {
  const text = await readKeyText(source);
  let publicKey: KeyObject;
  try {
    publicKey = text.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
  } catch {
    throw keyProblem(source, 'not a PEM public or private key');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw keyProblem(source, `expected an Ed25519 key, got ${publicKey.asymmetricKeyType ?? 'unknown'}`);
  return publicKey;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new DomainError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read checkpoint directory ${dir} (${code})`);
  }
}

/** A checkpoint file that was not trusted, and why. */
export interface RejectedCheckpoint {
  file: string;
  reason: string;
}

export interface TenantCheckpoints {
  /** Checkpoints whose signature verified, by sequence number. */
  trusted: Checkpoint[];
  rejected: RejectedCheckpoint[];
}

const READ_CONCURRENCY = 32;

/**
 * Every checkpoint of one tenant in `dir`, each checked against `publicKey`. A file that does not parse, is
 * not signed by the key, or whose content names another tenant or sequence than its name is rejected,
 * never trusted: the caller reports it.
 */
export async function readTenantCheckpoints(dir: string, tenantId: string, publicKey: KeyObject): Promise<TenantCheckpoints> {
  const names = (await listDir(dir)).filter((name) => parseCheckpointFileName(name)?.tenantId === tenantId.toLowerCase()).sort();
  const trusted: Checkpoint[] = [];
  const rejected: RejectedCheckpoint[] = [];
  for (let i = 0; i < names.length; i += READ_CONCURRENCY) {
    const checks = await Promise.all(names.slice(i, i + READ_CONCURRENCY).map(async (name) => ({ name, check: await checkFile(dir, name, publicKey) })));
    for (const { name, check } of checks) {
      if (check.ok) trusted.push(check.checkpoint);
      else rejected.push({ file: name, reason: check.reason });
    }
  }
  trusted.sort((a, b) => a.seq - b.seq);
  return { trusted, rejected };
}

async function checkFile(dir: string, name: string, publicKey: KeyObject): Promise<{ ok: true; checkpoint: Checkpoint } | { ok: false; reason: string }> {
  let content: unknown;
  try {
    content = JSON.parse(await readFile(join(dir, name), 'utf8'));
  } catch (err) {
    return { ok: false, reason: err instanceof SyntaxError ? 'not JSON' : `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const check = verifyCheckpoint(content, publicKey);
  if (!check.ok) return check;
  // The name only says where to look; what counts is what was signed. A signed checkpoint of another
  // tenant or sequence moved under this name is a sign of tampering, not something to use.
  const claimed = parseCheckpointFileName(name)!;
  if (check.checkpoint.tenantId !== claimed.tenantId) return { ok: false, reason: `signed for tenant ${check.checkpoint.tenantId}, filed under ${claimed.tenantId}` };
  if (check.checkpoint.seq !== claimed.seq) return { ok: false, reason: `signed for seq ${check.checkpoint.seq}, filed as seq ${claimed.seq}` };
  return check;
}

/** The highest checkpointed sequence number of each tenant, from the file names alone. */
async function latestCheckpoints(dir: string): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for (const name of await listDir(dir)) {
    const parsed = parseCheckpointFileName(name);
    if (parsed && parsed.seq > (latest.get(parsed.tenantId) ?? 0)) latest.set(parsed.tenantId, parsed.seq);
  }
  return latest;
}

/** Writes the file under a temporary name, flushes it, then renames it: readers see all of it or none. */
async function writeFileAtomically(dir: string, name: string, text: string): Promise<void> {
  const temporary = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(dir, name));
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

export interface CheckpointResult {
  tenantId: string;
  /**
   * `written`: the head moved and a checkpoint of it was written. `unchanged`: the last checkpoint already
   * covers the head. `empty`: the chain has no events yet. `diverged`: the head is behind or disagrees with
   * the last checkpoint, or with its own last event; nothing is signed, since signing would vouch for a
   * chain that may have been tampered with (`lanyard audit verify` says where).
   */
  status: 'written' | 'unchanged' | 'empty' | 'diverged';
  seq: number;
  file?: string;
  reason?: string;
}

interface HeadRow {
  seq: number;
  hash: Buffer;
  event_hash: Buffer | null;
}

async function readHead(pool: pg.Pool, tenantId: string): Promise<HeadRow | null> {
  return inTenantTx(
    pool,
    tenantId,
    async (db) => {
      const { rows } = await db.query<HeadRow>(
        `SELECT h.seq, h.hash, e.hash AS event_hash
           FROM audit_chain_heads h LEFT JOIN audit_events e ON e.tenant_id = h.tenant_id AND e.seq = h.seq
          WHERE h.tenant_id = $1`,
        [tenantId],
      );
      return rows[0] ?? null;
    },
    { readOnly: true },
  );
}

async function checkpointHashAt(dir: string, name: string): Promise<string | null> {
  try {
    const content = JSON.parse(await readFile(join(dir, name), 'utf8')) as { hash?: unknown };
    return typeof content.hash === 'string' ? content.hash : null;
  } catch {
    return null;
  }
}

async function checkpointTenant(pool: pg.Pool, dir: string, key: SigningKey, tenantId: string, last: number | undefined, now: () => Date): Promise<CheckpointResult> {
  const head = await readHead(pool, tenantId);
  if (!head || head.seq === 0) return { tenantId, status: 'empty', seq: 0 };
  const hash = head.hash.toString('hex');
  if (last !== undefined && head.seq < last) {
    return { tenantId, status: 'diverged', seq: head.seq, reason: `the chain head (seq ${head.seq}) is behind the last checkpoint (seq ${last})` };
  }
  if (last === head.seq) {
    const signed = await checkpointHashAt(dir, checkpointFileName(tenantId, last));
    return signed === hash
      ? { tenantId, status: 'unchanged', seq: head.seq }
      : { tenantId, status: 'diverged', seq: head.seq, reason: `the chain head differs from the last checkpoint at seq ${last}` };
  }
  if (!head.event_hash?.equals(head.hash)) {
    return { tenantId, status: 'diverged', seq: head.seq, reason: `the chain head (seq ${head.seq}) does not match the event at that seq` };
  }
  const file = checkpointFileName(tenantId, head.seq);
  const signed = signCheckpoint({ tenantId, seq: head.seq, hash, createdAt: now().toISOString() }, key);
  await writeFileAtomically(dir, file, `${JSON.stringify(signed, null, 2)}\n`);
  return { tenantId, status: 'written', seq: head.seq, file };
}

export interface WriteCheckpointsOptions {
  dir: string;
  key: SigningKey;
  /** Only these tenants (ids); every tenant when absent. */
  tenantIds?: readonly string[];
  now?: () => Date;
}

/**
 * Takes a checkpoint of each tenant's chain head that moved since the tenant's last checkpoint in `dir`.
 * Safe to run repeatedly and from several processes at once: a checkpoint's file name is fixed by its tenant
 * and sequence number, so two runs that race write the same statement under the same name.
 */
export async function writeCheckpoints(pool: pg.Pool, opts: WriteCheckpointsOptions): Promise<CheckpointResult[]> {
  await mkdir(opts.dir, { recursive: true });
  const tenantIds = opts.tenantIds ?? (await inTx(pool, listTenants, { readOnly: true })).map((t) => t.id);
  const latest = await latestCheckpoints(opts.dir);
  const results: CheckpointResult[] = [];
  for (const tenantId of tenantIds) {
    results.push(await checkpointTenant(pool, opts.dir, opts.key, tenantId, latest.get(tenantId.toLowerCase()), opts.now ?? (() => new Date())));
  }
  return results;
}

/** The periodic checkpoint job, ready for a scheduler. */
export interface CheckpointTask {
  everyMs: number;
  run(): Promise<CheckpointResult[]>;
}

/**
 * The checkpoint job a worker schedules every AUDIT_CHECKPOINT_INTERVAL, or null when AUDIT_SIGNING_KEY_FILE
 * or AUDIT_CHECKPOINT_DIR is not set (nothing to schedule). The key is read here, so a bad key stops the
 * start rather than the first run.
 */
export async function auditCheckpointTask(pool: pg.Pool, audit: AuditConfig): Promise<CheckpointTask | null> {
  if (!audit.signingKeyFile || !audit.checkpointDir) return null;
  const key = await loadSigningKey({ file: audit.signingKeyFile, setting: 'AUDIT_SIGNING_KEY_FILE' });
  const dir = audit.checkpointDir;
  return { everyMs: audit.checkpointIntervalMs, run: () => writeCheckpoints(pool, { dir, key }) };
}
