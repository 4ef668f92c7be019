import type pg from 'pg';
import type { Queryable, Statement } from '../store/pool.js';
import { markReturnedUserSql } from '../store/reconcile-outbox.js';
import { type AuditEventInput, auditEventSchema } from './audit-event.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Appending to a tenant's chain: bump the head (taking its row lock until commit, which orders a tenant's
 * events exactly as their transactions commit) and insert the event with the new hash,
 * sha256(previous hash || int8 seq || entry). `$t` are the event's parameters; `guard` makes the append
 * conditional.
 */
function appendSql(t: (i: number) => string, guard = ''): string {
  return `head AS (
       UPDATE audit_chain_heads
          SET seq = seq + 1,
              hash = sha256(hash || int8send(seq + 1) || convert_to(${t(2)}::text, 'UTF8'))
        WHERE tenant_id = ${t(1)}::uuid${guard}
       RETURNING seq, hash
     ),
     appended AS (
       INSERT INTO audit_events (tenant_id, seq, occurred_at, actor, action, resource_type, resource_id, entry, hash)
       SELECT ${t(1)}::uuid, head.seq, ${t(3)}::timestamptz, ${t(4)}, ${t(5)}, ${t(6)}, ${t(7)}, ${t(2)}::text, head.hash FROM head
       RETURNING seq
     )`;
}

function eventValues(tenantId: string, input: AuditEventInput): unknown[] {
  const event = auditEventSchema.parse(input);
  const occurredAt = new Date().toISOString();
  const entry = canonicalJson({ tenantId, occurredAt, ...event });
  return [tenantId, entry, occurredAt, event.actor, event.action, event.resourceType, event.resourceId];
}

const APPEND_ONLY = `WITH ${appendSql((i) => `$${i}`)} SELECT seq FROM appended`;

/**
 * Appends one event to the tenant's hash chain inside the caller's transaction, so the event exists if and
 * only if the change it records commits.
 */
export async function recordAuditEvent(db: Queryable, tenantId: string, input: AuditEventInput): Promise<number> {
  const { rows } = await db.query<{ seq: number }>({ name: 'audit.append', text: APPEND_ONLY, values: eventValues(tenantId, input) });
  if (rows.length !== 1) throw new Error('audit chain head missing for tenant');
  return rows[0]!.seq;
}

/**
 * Runs one data-modifying statement (with RETURNING) and appends its audit event in the same SQL statement,
 * one round trip instead of two on the busiest path. The event is appended only when the statement
 * returned a row, so a write that matched nothing records nothing. With `markUser`, the user the statement
 * returned (its `id`) is also marked for reconciliation, in the same statement.
 */
export async function writeWithAudit<Row extends pg.QueryResultRow>(
  db: Queryable,
  tenantId: string,
  statement: Statement,
  input: AuditEventInput,
  opts: { markUser?: boolean } = {},
): Promise<Row[]> {
  const offset = statement.values.length;
  const t = (i: number) => `$${offset + i}`;
  // The event's action ($5 of the event values) doubles as the mark's cause.
  const mark = opts.markUser ? `${markReturnedUserSql(t(1), t(5))},\n     ` : '';
  // The mark must lock the user's outbox row before the append locks the chain head: every writer takes
  // outbox rows first and the head last, which is what keeps them free of deadlocks with reconciles.
  // Naming `marked` in the append's condition makes PostgreSQL run it first.
  const guard = ` AND EXISTS (SELECT 1 FROM main)${opts.markUser ? ' AND (SELECT count(*) FROM marked) >= 0' : ''}`;
  const text = `WITH main AS (${statement.text}),
     ${mark}${appendSql(t, guard)}
     SELECT main.*, (SELECT seq FROM appended) AS audit_seq FROM main`;
  const { rows } = await db.query<Row & { audit_seq: number | null }>({
    ...(statement.name ? { name: `audited${opts.markUser ? '-marked' : ''}.${statement.name}` } : {}),
    text,
    values: [...statement.values, ...eventValues(tenantId, input)],
  });
  if (rows.length > 0 && rows[0]!.audit_seq === null) throw new Error('audit chain head missing for tenant');
  return rows.map(({ audit_seq: _seq, ...row }) => row as unknown as Row);
}

/** Starts a tenant's chain: sequence 0, an all-zero hash. */
export async function startAuditChain(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, 0, '\\x${'00'.repeat(32)}')`, [tenantId]);
}
