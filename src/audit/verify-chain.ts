import { createHash, type KeyObject } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../store/pool.js';
import { enterTenant } from '../store/tenants-store.js';
import { inTx } from '../store/transaction.js';
import { keyIdOf, type Checkpoint } from './checkpoint.js';
import { readTenantCheckpoints, type RejectedCheckpoint } from './checkpoint-files.js';

export type ChainVerdict =
  | { ok: true; events: number; head: string }
  /** `events`: how many events precede `brokenAt`, the first sequence number that cannot be trusted. */
  | { ok: false; events: number; brokenAt: number; reason: string };

export interface ChainVerifyOptions {
  /** Checkpoints of this tenant whose signatures have already been checked (see readTenantCheckpoints). */
  checkpoints?: readonly Checkpoint[];
}

/** Rows per round trip: large enough that the round trips cost nothing next to the hashing. */
const BATCH = 10_000;

/**
 * Columns as arrays rather than objects, and the timestamp as PostgreSQL's text in the entry's own format:
 * a million rows are read per verification, and neither a key lookup nor a Date per row is needed.
 */
const FETCH_TEXT = `SELECT seq, hash, entry, action, actor, resource_type, resource_id,
         to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT ${BATCH}`;

type EventRow = [seq: number, hash: Buffer, entry: string, action: string, actor: string, resourceType: string, resourceId: string | null, occurredAt: string];

function fetchBatch(db: Queryable, tenantId: string, after: number): Promise<EventRow[]> {
  return db
    .query<EventRow>({ name: 'audit.verify-batch', text: FETCH_TEXT, values: [tenantId, after], rowMode: 'array' })
    .then((result) => result.rows);
}

/**
 * Whether the query columns (copies kept for searching) say what the hashed entry says. Entries are
 * canonical JSON, so their keys come in a fixed order: `action` and `actor` open every entry, and
 * `occurredAt`, `resourceId`, `resourceType`, `tenantId` close it. Comparing that prefix and suffix is
 * exact (a JSON string cannot contain the unescaped quotes of the separators) and avoids parsing every
 * entry; only an entry that fails it is parsed, to name the column or to accept an entry of another shape.
 */
function columnsMatchEntry(row: EventRow, tenantJson: string): boolean {
  const [, , entry, action, actor, resourceType, resourceId, occurredAt] = row;
  return (
    entry.startsWith(`{"action":${JSON.stringify(action)},"actor":${JSON.stringify(actor)},"attributes":`) &&
    entry.endsWith(
      `,"occurredAt":"${occurredAt}","resourceId":${resourceId === null ? 'null' : JSON.stringify(resourceId)},"resourceType":${JSON.stringify(resourceType)},"tenantId":${tenantJson}}`,
    )
  );
}

/** The columns that disagree with the entry, or null when the entry, read in full, agrees after all. */
function columnDisagreement(row: EventRow, tenantId: string): string | null {
  const [, , entry, action, actor, resourceType, resourceId, occurredAt] = row;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(entry) as Record<string, unknown>;
  } catch {
    return 'the entry is not JSON';
  }
  if (parsed['tenantId'] !== tenantId) return 'the entry belongs to another tenant';
  const columns: [string, unknown, unknown][] = [
    ['action', parsed['action'], action],
    ['actor', parsed['actor'], actor],
    ['resource_type', parsed['resourceType'], resourceType],
    ['resource_id', parsed['resourceId'] ?? null, resourceId],
  ];
  const differing = columns.filter(([, inEntry, column]) => inEntry !== column).map(([name]) => name);
  if (typeof parsed['occurredAt'] !== 'string' || Date.parse(parsed['occurredAt']) !== Date.parse(occurredAt)) differing.push('occurred_at');
  return differing.length ? `columns disagree with the hashed entry: ${differing.join(', ')}` : null;
}

/**
 * Recomputes a tenant's audit chain from the first event and reports the first sequence number whose
 * stored hash, position or columns disagree with the recomputation, or with a signed checkpoint; then
 * that the chain reaches every checkpoint and ends where the chain head says it does.
 *
 * Reads in batches by sequence number, so memory stays flat however long the chain. `db` must see the
 * tenant's rows (its row-level-security context); run it in a REPEATABLE READ transaction, as verifyAudit
 * does, when the chain may grow meanwhile, so the events and the head are read from one snapshot.
 */
export async function verifyAuditChain(db: Queryable, tenantId: string, opts: ChainVerifyOptions = {}): Promise<ChainVerdict> {
  const checkpoints = [...(opts.checkpoints ?? [])].sort((a, b) => a.seq - b.seq);
  const broken = (brokenAt: number, reason: string): ChainVerdict => ({ ok: false, events: brokenAt - 1, brokenAt, reason });
  const tenantJson = JSON.stringify(tenantId);
  const seqBytes = Buffer.alloc(8);
  let prev = Buffer.alloc(32);
  let expected = 1;
  let nextCheckpoint = 0;
  let lastMatchedCheckpoint = 0;

  // The next batch is requested before this one is checked, so PostgreSQL reads while Node hashes. Starting
  // below zero makes an event slipped in before seq 1 show up rather than be skipped.
  let pending: Promise<EventRow[]> | null = fetchBatch(db, tenantId, Number.MIN_SAFE_INTEGER);
  try {
    while (pending) {
      const rows: EventRow[] = await pending;
      pending = rows.length === BATCH ? fetchBatch(db, tenantId, rows[BATCH - 1]![0]) : null;
      for (const row of rows) {
        const seq = row[0];
        if (seq < expected) return broken(expected, `an event with seq ${seq} precedes the chain`);
        if (seq > expected) return broken(expected, `missing event (the next one is seq ${seq})`);
        seqBytes.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 0);
        seqBytes.writeUInt32BE(seq >>> 0, 4);
        const hash = createHash('sha256').update(prev).update(seqBytes).update(row[2], 'utf8').digest();
        if (!hash.equals(row[1])) return broken(seq, 'hash mismatch');
        if (!columnsMatchEntry(row, tenantJson)) {
          const disagreement = columnDisagreement(row, tenantId);
          if (disagreement) return broken(seq, disagreement);
        }
        const checkpoint = checkpoints[nextCheckpoint];
        if (checkpoint?.seq === seq) {
          // The chain is consistent up to here, yet not the one that was signed: it was rewritten (hashes
          // recomputed) somewhere after the last checkpoint that still matches.
          if (hash.toString('hex') !== checkpoint.hash) {
            return broken(
              lastMatchedCheckpoint + 1,
              `rewritten: seq ${seq} differs from its checkpoint of ${checkpoint.createdAt}; the change lies between seq ${lastMatchedCheckpoint + 1} and ${seq}`,
            );
          }
          lastMatchedCheckpoint = seq;
          nextCheckpoint += 1;
        }
        prev = hash;
        expected += 1;
      }
    }
  } finally {
    // Returning early leaves the prefetched batch in flight: let it land before the caller ends the transaction.
    await pending?.catch(() => {});
  }

  const last = expected - 1;
  const beyond = checkpoints.at(-1);
  if (beyond && beyond.seq > last) {
    return broken(last + 1, `truncated: checkpoint at seq ${beyond.seq} (${beyond.createdAt}) but the chain ends at seq ${last}`);
  }
  const { rows: heads } = await db.query<{ seq: number; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1', [tenantId]);
  const head = heads[0];
  if (!head) return broken(last + 1, 'the chain head is missing');
  if (head.seq > last) return broken(last + 1, `truncated: the chain head is at seq ${head.seq} but the chain ends at seq ${last}`);
  if (head.seq < last) return broken(head.seq + 1, `events beyond the chain head (seq ${head.seq})`);
  if (!head.hash.equals(prev)) return broken(last, 'the chain head’s hash differs from the last event’s');
  return { ok: true, events: last, head: prev.toString('hex') };
}

export interface AuditVerifyOptions {
  /** Also check the tenant's signed checkpoints in `dir` against `publicKey`. */
  checkpoints?: { dir: string; publicKey: KeyObject };
}

export interface AuditVerdict {
  tenantId: string;
  /** The chain is intact and every checkpoint file of the tenant is genuine and matches it. */
  ok: boolean;
  chain: ChainVerdict;
  checkpoints: {
    dir: string;
    keyId: string;
    /** Checkpoints whose signature verified (and that the chain was checked against). */
    trusted: number;
    latest: Checkpoint | null;
    /** Files that claim to be checkpoints of the tenant but were not trusted: forged, altered or misfiled. */
    rejected: RejectedCheckpoint[];
  } | null;
}

/**
 * Verifies a tenant's audit trail: the chain as stored, and, with `checkpoints`, that it still holds
 * everything the signed checkpoints vouch for. Only the public key is needed.
 */
export async function verifyAudit(pool: pg.Pool, tenantId: string, opts: AuditVerifyOptions = {}): Promise<AuditVerdict> {
  const files = opts.checkpoints ? await readTenantCheckpoints(opts.checkpoints.dir, tenantId, opts.checkpoints.publicKey) : null;
  const chain = await inTx(
    pool,
    async (db) => {
      await enterTenant(db, tenantId);
      return verifyAuditChain(db, tenantId, { checkpoints: files?.trusted ?? [] });
    },
    { readOnly: true, prelude: 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ' },
  );
  return {
    tenantId,
    ok: chain.ok && (files?.rejected.length ?? 0) === 0,
    chain,
    checkpoints:
      opts.checkpoints && files
        ? { dir: opts.checkpoints.dir, keyId: keyIdOf(opts.checkpoints.publicKey), trusted: files.trusted.length, latest: files.trusted.at(-1) ?? null, rejected: files.rejected }
        : null,
  };
}
