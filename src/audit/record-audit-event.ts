import type pg from 'pg';
import type { Queryable, Statement } from '../store/pool.js';
import { markReturnedUserSql } from '../store/reconcile-outbox.js';
import type { Tx } from '../store/transaction.js';
import { type AuditEventInput, auditEventSchema } from './audit-event.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Records one event in the caller's transaction. It joins the tenant's hash chain when the transaction
 * commits (see Tx), so the event exists if and only if the change it records commits, and the chain's
 * order is the order in which the tenant's transactions committed.
 */
export function recordAuditEvent(db: Tx, tenantId: string, input: AuditEventInput): void {
  const event = auditEventSchema.parse(input);
  const occurredAt = new Date().toISOString();
  db.pendingAudit.push({
    tenantId,
    entry: canonicalJson({ tenantId, occurredAt, ...event }),
    occurredAt,
    actor: event.actor,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
  });
}

/**
 * Runs one data-modifying statement (with RETURNING) and records its audit event only when the statement
 * returned a row, so a write that matched nothing records nothing. With `markUser`, the user the statement
 * returned (its `id`) is also marked for reconciliation, in the same statement.
 */
export async function writeWithAudit<Row extends pg.QueryResultRow>(
  db: Tx,
  tenantId: string,
  statement: Statement,
  input: AuditEventInput,
  opts: { markUser?: boolean } = {},
): Promise<Row[]> {
  const t = (i: number) => `$${statement.values.length + i}`;
  const { rows } = await db.query<Row>(
    opts.markUser
      ? {
          ...(statement.name ? { name: `marked.${statement.name}` } : {}),
          text: `WITH main AS (${statement.text}),
             ${markReturnedUserSql(t(1), t(2))}
             SELECT main.* FROM main`,
          values: [...statement.values, tenantId, input.action],
        }
      : statement,
  );
  if (rows.length > 0) recordAuditEvent(db, tenantId, input);
  return rows;
}

/** Starts a tenant's chain: sequence 0, an all-zero hash. */
export async function startAuditChain(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, 0, '\\x${'00'.repeat(32)}')`, [tenantId]);
}
