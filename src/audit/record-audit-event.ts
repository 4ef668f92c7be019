import type { Queryable } from '../store/pool.js';
import { type AuditEventInput, auditEventSchema } from './audit-event.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Appends one event to the tenant's hash chain, inside the caller's transaction so the event exists if and
 * only if the change it records commits. Updating the chain head takes its row lock until commit, which
 * orders a tenant's events exactly as their transactions commit.
 */
export async function recordAuditEvent(db: Queryable, tenantId: string, input: AuditEventInput): Promise<number> {
  const event = auditEventSchema.parse(input);
  const occurredAt = new Date().toISOString();
  const entry = canonicalJson({ tenantId, occurredAt, ...event });
  const { rows } = await db.query<{ seq: number }>(
    `WITH head AS (
       UPDATE audit_chain_heads
          SET seq = seq + 1,
              hash = sha256(hash || int8send(seq + 1) || convert_to($2, 'UTF8'))
        WHERE tenant_id = $1
       RETURNING seq, hash
     )
     INSERT INTO audit_events (tenant_id, seq, occurred_at, actor, action, resource_type, resource_id, entry, hash)
     SELECT $1, head.seq, $3, $4, $5, $6, $7, $2, head.hash FROM head
     RETURNING seq`,
    [tenantId, entry, occurredAt, event.actor, event.action, event.resourceType, event.resourceId],
  );
  if (rows.length !== 1) throw new Error('audit chain head missing for tenant');
  return rows[0]!.seq;
}

/** Starts a tenant's chain: sequence 0, an all-zero hash. */
export async function startAuditChain(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, 0, '\\x${'00'.repeat(32)}')`, [tenantId]);
}
