import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../audit/audit-event.js';
import { writeWithAudit } from '../audit/record-audit-event.js';
import type { EndBound } from '../policy/evaluate.js';
import type { GrantState } from '../policy/grant-state.js';
import type { CurrentGrant } from '../policy/plan.js';
import type { Queryable } from './pool.js';
import type { Tx } from './transaction.js';

/** Every live or ended grant of the given users, for planning (ended ones are ignored by the plan). */
export async function grantsOfUsers(db: Queryable, tenantId: string, userIds: string[]): Promise<Map<string, CurrentGrant[]>> {
  const result = new Map<string, CurrentGrant[]>();
  if (userIds.length === 0) return result;
  const { rows } = await db.query<{ id: string; user_id: string; connector: string; entitlement: string; state: CurrentGrant['state']; ends_at: Date | null; packages: string[] }>({
    name: 'grants.of-users',
    text: `SELECT id, user_id, connector, entitlement, state, ends_at,
            ARRAY(SELECT DISTINCT r ->> 'package' FROM jsonb_array_elements(reasons) r) AS packages
       FROM grants
      WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND state NOT IN ('revoked')`,
    values: [tenantId, userIds],
  });
  for (const row of rows) {
    const list = result.get(row.user_id) ?? [];
    list.push({ id: row.id, connector: row.connector, entitlement: row.entitlement, state: row.state, endsAt: row.ends_at, packages: row.packages });
    result.set(row.user_id, list);
  }
  return result;
}

export interface NewGrant {
  userId: string;
  userName: string;
  connector: string;
  entitlement: string;
  state: GrantState;
  reasons: unknown[];
  policyVersion: number | null;
  endsAt: Date;
  endBound: EndBound;
  approvalId?: string | null;
  exceptionId?: string | null;
  /** The moment the grant was decided; a package's maximum duration counts from it. */
  createdAt: Date;
  lastError?: string;
}

/** Inserts a grant and its audit event in one statement; the live-grant index makes a duplicate fail. */
export async function insertGrant(db: Tx, tenantId: string, grant: NewGrant, event: Omit<AuditEventInput, 'resourceId'>): Promise<string> {
  const id = randomUUID();
  await writeWithAudit(
    db,
    tenantId,
    {
      name: 'grants.insert',
      text: `INSERT INTO grants (tenant_id, id, user_id, user_name, connector, entitlement, state, reasons, policy_version, ends_at, last_error,
                                end_bound, approval_id, exception_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id`,
      values: [
        tenantId, id, grant.userId, grant.userName, grant.connector, grant.entitlement, grant.state, JSON.stringify(grant.reasons), grant.policyVersion, grant.endsAt, grant.lastError ?? null,
        grant.endBound, grant.approvalId ?? null, grant.exceptionId ?? null, grant.createdAt,
      ],
    },
    { ...event, resourceId: id },
  );
  return id;
}

export interface GrantMove {
  from: readonly GrantState[];
  to: GrantState;
  revokeReason?: string;
  /** Set `starts_at` to now: the moment access was actually in place downstream. */
  started?: boolean;
  /** Replaces `last_error`; null clears it. */
  lastError?: string | null;
  /** The deprovision hold a move to `held` waits on. */
  holdId?: string;
  /** Clears the revoke reason: a held grant given back did not end. */
  clearRevokeReason?: boolean;
}

/**
 * Moves one grant to a new state if it is still in one of `from`, with the audit event in the same
 * statement. Answers false when the grant had moved on meanwhile: the caller re-reads instead of
 * overwriting someone else's decision.
 */
export async function moveGrant(db: Tx, tenantId: string, id: string, move: GrantMove, event: AuditEventInput): Promise<boolean> {
  const rows = await writeWithAudit(
    db,
    tenantId,
    {
      name: 'grants.move',
      text: `UPDATE grants
                SET state = $3,
                    revoke_reason = CASE WHEN $10 THEN NULL ELSE COALESCE($4, revoke_reason) END,
                    starts_at = CASE WHEN $5 THEN now() ELSE starts_at END,
                    last_error = CASE WHEN $6 THEN $7 ELSE last_error END,
                    hold_id = COALESCE($9, hold_id),
                    updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND state = ANY($8::text[])
              RETURNING id`,
      values: [tenantId, id, move.to, move.revokeReason ?? null, move.started ?? false, move.lastError !== undefined, move.lastError ?? null, move.from, move.holdId ?? null, move.clearRevokeReason ?? false],
    },
    event,
  );
  return rows.length === 1;
}

/**
 * Moves a live grant's end, with what now sets it (and the approval behind it). Only reconciles move ends,
 * and they never run two at a time for one user, so no guard on the old end is needed; answers whether it
 * moved.
 */
export async function moveGrantEnd(db: Tx, tenantId: string, id: string, to: { endsAt: Date; endBound: EndBound; approvalId: string | null }, event: AuditEventInput): Promise<boolean> {
  const rows = await writeWithAudit(
    db,
    tenantId,
    {
      name: 'grants.move-end',
      text: `UPDATE grants SET ends_at = $3, end_bound = $4, approval_id = COALESCE($5, approval_id), updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND state <> 'revoked' AND ends_at IS DISTINCT FROM $3 RETURNING id`,
      values: [tenantId, id, to.endsAt, to.endBound, to.approvalId],
    },
    event,
  );
  return rows.length === 1;
}

export interface PendingGrant {
  id: string;
  entitlement: string;
  state: GrantState;
  userName: string;
  revokeReason: string | null;
}

/** The grants of one user on one connector that are in one of `states`, oldest first. */
export async function grantsInState(db: Queryable, tenantId: string, userId: string, connector: string, states: readonly GrantState[]): Promise<PendingGrant[]> {
  const { rows } = await db.query<{ id: string; entitlement: string; state: GrantState; user_name: string; revoke_reason: string | null }>({
    name: 'grants.in-state',
    text: `SELECT id, entitlement, state, user_name, revoke_reason FROM grants
            WHERE tenant_id = $1 AND user_id = $2 AND connector = $3 AND state = ANY($4::text[]) ORDER BY created_at`,
    values: [tenantId, userId, connector, states],
  });
  return rows.map((r) => ({ id: r.id, entitlement: r.entitlement, state: r.state, userName: r.user_name, revokeReason: r.revoke_reason }));
}

/**
 * The entitlements the user holds, or is being given, through the connector: a grant on its way out must
 * not take one of these away downstream, where both grants are the same single permission.
 */
export async function heldEntitlements(db: Queryable, tenantId: string, userId: string, connector: string): Promise<Set<string>> {
  const { rows } = await db.query<{ entitlement: string }>({
    name: 'grants.held',
    text: `SELECT DISTINCT entitlement FROM grants WHERE tenant_id = $1 AND user_id = $2 AND connector = $3 AND state IN ('provisioning', 'active', 'failed', 'held')`,
    values: [tenantId, userId, connector],
  });
  return new Set(rows.map((r) => r.entitlement));
}

export async function grantState(db: Queryable, tenantId: string, id: string): Promise<GrantState | null> {
  const { rows } = await db.query<{ state: GrantState }>({ name: 'grants.state', text: 'SELECT state FROM grants WHERE tenant_id = $1 AND id = $2', values: [tenantId, id] });
  return rows[0]?.state ?? null;
}

export interface FailedWork {
  userId: string;
  userName: string;
  connector: string;
  grants: number;
  error: string | null;
  failedAt: Date;
}

/** Parked downstream work of a tenant: failed grants and accounts, one entry per user and connector. */
export async function failedWork(db: Queryable, tenantId: string): Promise<FailedWork[]> {
  const { rows } = await db.query<{ user_id: string; user_name: string; connector: string; grants: number; error: string | null; failed_at: Date }>(
    `SELECT user_id, max(user_name) AS user_name, connector, sum(grants)::int AS grants,
            (array_agg(error ORDER BY failed_at DESC))[1] AS error, max(failed_at) AS failed_at
       FROM (
         SELECT user_id, user_name, connector, 1 AS grants, last_error AS error, updated_at AS failed_at
           FROM grants WHERE tenant_id = $1 AND state = 'failed'
         UNION ALL
         SELECT user_id, user_name, connector, 0, last_error, updated_at
           FROM connector_accounts WHERE tenant_id = $1 AND last_error IS NOT NULL
       ) f
      GROUP BY user_id, connector ORDER BY failed_at`,
    [tenantId],
  );
  return rows.map((r) => ({ userId: r.user_id, userName: r.user_name, connector: r.connector, grants: r.grants, error: r.error, failedAt: r.failed_at }));
}

/**
 * Puts the parked work of one user on one connector back in flight: failed grants go back to provisioning,
 * or to revoking when they were on their way out. Returns the grants moved.
 */
export async function requeueFailedGrants(db: Tx, tenantId: string, userId: string, connector: string, actor: string): Promise<number> {
  const failed = await grantsInState(db, tenantId, userId, connector, ['failed']);
  let moved = 0;
  for (const grant of failed) {
    const to: GrantState = grant.revokeReason ? 'revoking' : 'provisioning';
    const ok = await moveGrant(db, tenantId, grant.id, { from: ['failed'], to, lastError: null }, {
      actor,
      action: 'grant.retried',
      resourceType: 'grant',
      resourceId: grant.id,
      detail: { connector, entitlement: grant.entitlement, state: to },
    });
    if (ok) moved += 1;
  }
  return moved;
}
