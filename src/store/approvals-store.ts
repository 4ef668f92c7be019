import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../audit/audit-event.js';
import { writeWithAudit } from '../audit/record-audit-event.js';
import type { ApprovalState } from '../policy/plan.js';
import type { ApproverRoute } from '../policy/policy-schema.js';
import type { Queryable } from './pool.js';
import type { Tx } from './transaction.js';

/** Who may decide a request, resolved when it was made. */
export interface Approvers {
  routes: ApproverRoute[];
  sponsor: string | null;
  tenant: string[];
  msp: string[];
}

export interface ApprovalRecord {
  id: string;
  userId: string;
  userName: string;
  package: string;
  state: ApprovalState;
  approvers: Approvers;
  subjectNames: string[];
  reasons: unknown[];
  requestedAt: Date;
  deadline: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  endsAt: Date | null;
}

interface ApprovalRow {
  id: string;
  user_id: string;
  user_name: string;
  package: string;
  state: ApprovalState;
  approvers: Approvers;
  subject_names: string[];
  reasons: unknown[];
  requested_at: Date;
  deadline: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  ends_at: Date | null;
}

const COLUMNS = 'id, user_id, user_name, package, state, approvers, subject_names, reasons, requested_at, deadline, decided_by, decided_at, decision_reason, ends_at';

function toRecord(r: ApprovalRow): ApprovalRecord {
  return {
    id: r.id,
    userId: r.user_id,
    userName: r.user_name,
    package: r.package,
    state: r.state,
    approvers: r.approvers,
    subjectNames: r.subject_names,
    reasons: r.reasons,
    requestedAt: r.requested_at,
    deadline: r.deadline,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionReason: r.decision_reason,
    endsAt: r.ends_at,
  };
}

export interface NewApproval {
  userId: string;
  userName: string;
  package: string;
  approvers: Approvers;
  subjectNames: string[];
  reasons: unknown[];
  policyVersion: number | null;
  deadline: Date;
}

/** Opens a request; the pending-request index makes a second one for the same package fail. */
export async function insertApproval(db: Tx, tenantId: string, approval: NewApproval, event: Omit<AuditEventInput, 'resourceId'>): Promise<string> {
  const id = randomUUID();
  await writeWithAudit(
    db,
    tenantId,
    {
      name: 'approvals.insert',
      text: `INSERT INTO approval_requests (tenant_id, id, user_id, user_name, package, state, approvers, subject_names, reasons, policy_version, deadline)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10) RETURNING id`,
      values: [tenantId, id, approval.userId, approval.userName, approval.package, JSON.stringify(approval.approvers), approval.subjectNames, JSON.stringify(approval.reasons), approval.policyVersion, approval.deadline],
    },
    { ...event, resourceId: id },
  );
  return id;
}

export interface ApprovalMove {
  from: ApprovalState;
  to: ApprovalState;
  decidedBy?: string;
  decisionReason?: string | null;
  endsAt?: Date | null;
}

/** Moves a request on if it is still in `from`; answers false when someone else moved it first. */
export async function moveApproval(db: Tx, tenantId: string, id: string, move: ApprovalMove, event: AuditEventInput): Promise<boolean> {
  const rows = await writeWithAudit(
    db,
    tenantId,
    {
      name: 'approvals.move',
      text: `UPDATE approval_requests
                SET state = $4,
                    decided_by = COALESCE($5, decided_by),
                    decided_at = CASE WHEN $5::text IS NOT NULL THEN now() ELSE decided_at END,
                    decision_reason = COALESCE($6, decision_reason),
                    ends_at = COALESCE($7, ends_at),
                    need_ended_at = CASE WHEN $4 IN ('cancelled', 'closed') THEN now() ELSE need_ended_at END,
                    updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND state = $3
              RETURNING id`,
      values: [tenantId, id, move.from, move.to, move.decidedBy ?? null, move.decisionReason ?? null, move.endsAt ?? null],
    },
    event,
  );
  return rows.length === 1;
}

/** Notes that a denied or expired request is no longer needed, so a new need asks afresh. */
export async function markApprovalNeedEnded(db: Queryable, tenantId: string, id: string): Promise<void> {
  await db.query({
    name: 'approvals.need-ended',
    text: 'UPDATE approval_requests SET need_ended_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2 AND need_ended_at IS NULL',
    values: [tenantId, id],
  });
}

export async function findApproval(db: Queryable, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<ApprovalRecord | null> {
  const { rows } = await db.query<ApprovalRow>(`SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = $1 AND id = $2${opts.lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listApprovals(db: Queryable, tenantId: string, opts: { pendingOnly: boolean; limit: number }): Promise<ApprovalRecord[]> {
  return (await pageApprovals(db, tenantId, { ...opts, before: null })).map((r) => r.record);
}

/**
 * Newest first, after `before` (the `pageKey` of the last request of the previous page): requested_at to
 * the microsecond, then id, so pages neither skip nor repeat a request.
 */
export async function pageApprovals(
  db: Queryable,
  tenantId: string,
  opts: { pendingOnly: boolean; limit: number; before: { at: string; id: string } | null },
): Promise<{ record: ApprovalRecord; pageKey: [string, string] }[]> {
  const { rows } = await db.query<ApprovalRow & { page_key: string }>(
    `SELECT ${COLUMNS}, to_char(requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_key
       FROM approval_requests
      WHERE tenant_id = $1 ${opts.pendingOnly ? "AND state = 'pending'" : ''}
        AND ($3::timestamptz IS NULL OR (requested_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY requested_at DESC, id DESC LIMIT $2`,
    [tenantId, opts.limit, opts.before?.at ?? null, opts.before?.id ?? null],
  );
  return rows.map((r) => ({ record: toRecord(r), pageKey: [r.page_key, r.id] }));
}
