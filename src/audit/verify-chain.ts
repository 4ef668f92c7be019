import { createHash } from 'node:crypto';
import type { Queryable } from '../store/pool.js';

export type ChainVerdict =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; brokenAt: number; reason: string };

const BATCH = 10_000;

/**
 * Recomputes a tenant's audit chain from the first event and reports the first sequence number whose
 * stored hash, position or columns disagree with the recomputation.
 */
export async function verifyAuditChain(db: Queryable, tenantId: string): Promise<ChainVerdict> {
  let prev = Buffer.alloc(32);
  let expectedSeq = 1;
  for (;;) {
    const { rows } = await db.query<{ seq: number; entry: string; hash: Buffer; action: string; resource_id: string | null }>(
      `SELECT seq, entry, hash, action, resource_id FROM audit_events
        WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT ${BATCH}`,
      [tenantId, expectedSeq],
    );
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, events: expectedSeq - 1, brokenAt: expectedSeq, reason: 'missing event' };
      const seqBytes = Buffer.alloc(8);
      seqBytes.writeBigInt64BE(BigInt(row.seq));
      const hash = createHash('sha256').update(prev).update(seqBytes).update(row.entry, 'utf8').digest();
      if (!hash.equals(row.hash)) return { ok: false, events: expectedSeq - 1, brokenAt: row.seq, reason: 'hash mismatch' };
      const parsed = JSON.parse(row.entry) as { action?: string; resourceId?: string | null };
      if (parsed.action !== row.action || (parsed.resourceId ?? null) !== row.resource_id) {
        return { ok: false, events: expectedSeq - 1, brokenAt: row.seq, reason: 'columns disagree with the hashed entry' };
      }
      prev = hash;
      expectedSeq += 1;
    }
    if (rows.length < BATCH) break;
  }
  return { ok: true, events: expectedSeq - 1, head: prev.toString('hex') };
}
