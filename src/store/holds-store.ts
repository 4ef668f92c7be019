import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../audit/audit-event.js';
import { writeWithAudit } from '../audit/record-audit-event.js';
import type { Queryable } from './pool.js';
import type { Tx } from './transaction.js';

export type HoldState = 'pending' | 'released' | 'rejected' | 'withdrawn';

export interface HoldRecord {
  id: string;
  userId: string;
  userName: string;
  state: HoldState;
  reason: string;
  createdAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
}

interface Row {
  id: string;
  user_id: string;
  user_name: string;
  state: HoldState;
  reason: string;
  created_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
}

const COLUMNS = 'id, user_id, user_name, state, reason, created_at, decided_by, decided_at, decision_reason';
const toHold = (r: Row): HoldRecord => ({
  id: r.id,
  userId: r.user_id,
  userName: r.user_name,
  state: r.state,
  reason: r.reason,
  createdAt: r.created_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  decisionReason: r.decision_reason,
});

/**
 * What the brake decides on, read under a per-tenant lock held to the end of the transaction, so that
 * concurrent reconciles of one tenant count each other's deprovisions.
 */
export async function brakeState(db: Queryable, tenantId: string, windowMs: number): Promise<{ recent: number; pendingHolds: number; users: number }> {
  await db.query({ name: 'brake.lock', text: `SELECT pg_advisory_xact_lock(1, hashtext($1::text))`, values: [tenantId] });
  const { rows } = await db.query<{ recent: number; pending: number; users: number }>({
    name: 'brake.state',
    text: `SELECT (SELECT count(*) FROM deprovision_log WHERE tenant_id = $1 AND at > now() - make_interval(secs => $2 / 1000.0))::int AS recent,
                  (SELECT count(*) FROM deprovision_holds WHERE tenant_id = $1 AND state = 'pending')::int AS pending,
                  (SELECT count(*) FROM users WHERE tenant_id = $1)::int AS users`,
    values: [tenantId, windowMs],
  });
  const row = rows[0]!;
  return { recent: row.recent, pendingHolds: row.pending, users: row.users };
}

export async function logDeprovision(db: Queryable, tenantId: string, userId: string): Promise<void> {
  await db.query({ name: 'brake.log', text: 'INSERT INTO deprovision_log (tenant_id, user_id) VALUES ($1, $2)', values: [tenantId, userId] });
}

/** The user's pending hold, or a new one. */
export async function openHold(db: Tx, tenantId: string, user: { id: string; userName: string }, reason: string, event: Omit<AuditEventInput, 'resourceId'>): Promise<{ id: string; created: boolean }> {
  const { rows } = await db.query<{ id: string }>({
    name: 'holds.pending',
    text: "SELECT id FROM deprovision_holds WHERE tenant_id = $1 AND user_id = $2 AND state = 'pending'",
    values: [tenantId, user.id],
  });
  if (rows[0]) return { id: rows[0].id, created: false };
  const id = randomUUID();
  await writeWithAudit(
    db,
    tenantId,
    {
      name: 'holds.insert',
      text: `INSERT INTO deprovision_holds (tenant_id, id, user_id, user_name, state, reason) VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id`,
      values: [tenantId, id, user.id, user.userName, reason],
    },
    { ...event, resourceId: id },
  );
  return { id, created: true };
}

/** Moves a hold on if it is still pending; answers false when someone else decided it first. */
export async function decideHold(db: Tx, tenantId: string, id: string, to: Exclude<HoldState, 'pending'>, decision: { by: string; reason: string | null }, event: AuditEventInput): Promise<boolean> {
  const rows = await writeWithAudit(
    db,
    tenantId,
    {
      name: 'holds.decide',
      text: `UPDATE deprovision_holds SET state = $3, decided_by = $4, decided_at = now(), decision_reason = $5
              WHERE tenant_id = $1 AND id = $2 AND state = 'pending' RETURNING id`,
      values: [tenantId, id, to, decision.by, decision.reason],
    },
    event,
  );
  return rows.length === 1;
}

export async function findHold(db: Queryable, tenantId: string, id: string): Promise<HoldRecord | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM deprovision_holds WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
  return rows[0] ? toHold(rows[0]) : null;
}

export async function listHolds(db: Queryable, tenantId: string, opts: { pendingOnly: boolean; limit: number }): Promise<HoldRecord[]> {
  return (await pageHolds(db, tenantId, { ...opts, before: null })).map((r) => r.record);
}

/** Newest first, after `before` (created_at to the microsecond, then id), as the admin API pages them. */
export async function pageHolds(
  db: Queryable,
  tenantId: string,
  opts: { pendingOnly: boolean; limit: number; before: { at: string; id: string } | null },
): Promise<{ record: HoldRecord; pageKey: [string, string] }[]> {
  const { rows } = await db.query<Row & { page_key: string }>(
    `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_key
       FROM deprovision_holds
      WHERE tenant_id = $1 ${opts.pendingOnly ? "AND state = 'pending'" : ''}
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $2`,
    [tenantId, opts.limit, opts.before?.at ?? null, opts.before?.id ?? null],
  );
  return rows.map((r) => ({ record: toHold(r), pageKey: [r.page_key, r.id] }));
}
