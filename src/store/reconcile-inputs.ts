import type { EndBound } from '../policy/evaluate.js';
import type { GrantState } from '../policy/grant-state.js';
import type { ApprovalState, ApprovalView, CurrentGrant, ExpiredGrant } from '../policy/plan.js';
import type { TenantStatus } from '../tenants/tenant.js';
import type { AccountRecord, AccountState } from './accounts-store.js';
import type { OnDelete } from './connectors-store.js';
import type { HoldState } from './holds-store.js';
import type { Queryable } from './pool.js';
import type { UserForPolicy } from './user-batches.js';

/** An exception (emergency access) of the user that has not ended. */
export interface ExceptionRecord {
  id: string;
  package: string;
  startsAt: Date;
  endsAt: Date;
}

/** Everything one reconcile reads, fetched in one round trip. */
export interface ReconcileInputs {
  user: UserForPolicy | null;
  policy: { version: number; document: unknown } | null;
  contractEndsAt: Date | null;
  tenantStatus: TenantStatus;
  grants: (CurrentGrant & { holdState: HoldState | null })[];
  /** The user's name, also once the user is deleted (from the grants that remain). */
  userName: string | null;
  /** When the IdP last changed the user. */
  userUpdatedAt: Date | null;
  /** The user's latest deprovision hold. */
  latestHold: { id: string; state: HoldState; decidedAt: Date | null } | null;
  /** Per entitlement, the latest grant that ended by reaching its end. */
  expired: ExpiredGrant[];
  /** Per package, the latest approval request and the latest approval in force. */
  approvals: ApprovalView[];
  exceptions: ExceptionRecord[];
  accounts: AccountRecord[];
  /** Per connector whose activity has been checked, the account's latest activity seen. */
  activity: Map<string, Date | null>;
  /** Every connector of the tenant, with what a user's deletion does there. */
  onDelete: Map<string, OnDelete>;
}

interface Row {
  user: { seq: number; id: string; user_name: string; active: boolean; doc: Record<string, unknown>; groups: { id: string; displayName: string; externalId: string | null; addedAt: string }[] } | null;
  policy: { version: number; document: unknown } | null;
  contract_ends_at: Date | null;
  tenant_status: TenantStatus;
  grants: { id: string; connector: string; entitlement: string; state: GrantState; ends_at: string | null; starts_at: string | null; created_at: string; end_bound: EndBound | null; approval_id: string | null; hold_state: HoldState | null; packages: string[] }[];
  user_name: string | null;
  user_updated_at: Date | null;
  latest_hold: { id: string; state: HoldState; decided_at: string | null } | null;
  expired: { connector: string; entitlement: string; ends_at: string; end_bound: EndBound | null }[];
  approvals: { id: string; package: string; state: ApprovalState; requested_at: string; deadline: string; decided_at: string | null; ends_at: string | null; need_ended_at: string | null }[];
  exceptions: { id: string; package: string; starts_at: string; ends_at: string }[];
  accounts: {
    connector: string;
    user_id: string;
    user_name: string;
    ref: string;
    state: AccountState;
    desired: AccountState;
    last_error: string | null;
    last_activity_at: string | null;
    activity_checked_at: string | null;
  }[];
  connectors: Record<string, OnDelete>;
}

const date = (text: string | null) => (text === null ? null : new Date(text));

export async function reconcileInputs(db: Queryable, tenantId: string, userId: string): Promise<ReconcileInputs> {
  const { rows } = await db.query<Row>({
    name: 'reconcile.inputs',
    text: `SELECT
      (SELECT json_build_object('seq', r.seq, 'id', r.id, 'user_name', r.user_name, 'active', r.active, 'doc', r.doc,
              'groups', (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'displayName', g.display_name, 'externalId', g.external_id, 'addedAt', gm.added_at)), '[]'::json)
                           FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
                          WHERE gm.tenant_id = r.tenant_id AND gm.user_id = r.id))
         FROM users r WHERE r.tenant_id = $1 AND r.id = $2) AS user,
      (SELECT json_build_object('version', p.version, 'document', p.document)
         FROM policy_versions p WHERE p.tenant_id = $1 ORDER BY p.version DESC LIMIT 1) AS policy,
      (SELECT t.contract_ends_at FROM tenants t WHERE t.id = $1) AS contract_ends_at,
      (SELECT t.status FROM tenants t WHERE t.id = $1) AS tenant_status,
      (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'connector', g.connector, 'entitlement', g.entitlement, 'state', g.state, 'ends_at', g.ends_at,
              'created_at', g.created_at, 'starts_at', g.starts_at, 'end_bound', g.end_bound, 'approval_id', g.approval_id,
              'hold_state', (SELECT h.state FROM deprovision_holds h WHERE h.tenant_id = g.tenant_id AND h.id = g.hold_id),
              'packages', ARRAY(SELECT DISTINCT x ->> 'package' FROM jsonb_array_elements(g.reasons) x))), '[]'::json)
         FROM grants g WHERE g.tenant_id = $1 AND g.user_id = $2 AND g.state <> 'revoked') AS grants,
      COALESCE((SELECT u.user_name FROM users u WHERE u.tenant_id = $1 AND u.id = $2),
               (SELECT g.user_name FROM grants g WHERE g.tenant_id = $1 AND g.user_id = $2 ORDER BY g.created_at DESC LIMIT 1)) AS user_name,
      (SELECT u.updated_at FROM users u WHERE u.tenant_id = $1 AND u.id = $2) AS user_updated_at,
      (SELECT json_build_object('id', h.id, 'state', h.state, 'decided_at', h.decided_at) FROM deprovision_holds h
        WHERE h.tenant_id = $1 AND h.user_id = $2 ORDER BY h.created_at DESC LIMIT 1) AS latest_hold,
      (SELECT COALESCE(json_agg(json_build_object('connector', e.connector, 'entitlement', e.entitlement, 'ends_at', e.ends_at, 'end_bound', e.end_bound)), '[]'::json)
         FROM (SELECT DISTINCT ON (connector, entitlement) connector, entitlement,
                      -- An unused grant ended when it was revoked, whatever end it had; it renews like one
                      -- whose package duration ran out.
                      CASE WHEN revoke_reason = 'inactive' THEN updated_at ELSE ends_at END AS ends_at,
                      CASE WHEN revoke_reason = 'inactive' THEN 'package' ELSE end_bound END AS end_bound
                 FROM grants
                WHERE tenant_id = $1 AND user_id = $2 AND revoke_reason IN ('expired', 'inactive') AND ends_at IS NOT NULL
                ORDER BY connector, entitlement, updated_at DESC) e) AS expired,
      (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'package', a.package, 'state', a.state, 'requested_at', a.requested_at, 'deadline', a.deadline,
              'decided_at', a.decided_at, 'ends_at', a.ends_at, 'need_ended_at', a.need_ended_at)), '[]'::json)
         FROM (SELECT * FROM (SELECT DISTINCT ON (package) * FROM approval_requests WHERE tenant_id = $1 AND user_id = $2 ORDER BY package, requested_at DESC) latest
               UNION
               SELECT * FROM (SELECT DISTINCT ON (package) * FROM approval_requests
                               WHERE tenant_id = $1 AND user_id = $2 AND state = 'approved' AND ends_at > now() ORDER BY package, ends_at DESC) in_force) a) AS approvals,
      (SELECT COALESCE(json_agg(json_build_object('id', x.id, 'package', x.package, 'starts_at', x.starts_at, 'ends_at', x.ends_at)), '[]'::json)
         FROM access_exceptions x WHERE x.tenant_id = $1 AND x.user_id = $2 AND x.ends_at > now()) AS exceptions,
      (SELECT COALESCE(json_agg(json_build_object('connector', a.connector, 'user_id', a.user_id, 'user_name', a.user_name, 'ref', a.ref,
              'state', a.state, 'desired', a.desired, 'last_error', a.last_error,
              'last_activity_at', a.last_activity_at, 'activity_checked_at', a.activity_checked_at)), '[]'::json)
         FROM connector_accounts a WHERE a.tenant_id = $1 AND a.user_id = $2) AS accounts,
      (SELECT COALESCE(json_object_agg(c.name, c.on_delete), '{}'::json) FROM connectors c WHERE c.tenant_id = $1) AS connectors`,
    values: [tenantId, userId],
  });
  const row = rows[0]!;
  return {
    user: row.user
      ? {
          seq: row.user.seq,
          id: row.user.id,
          userName: row.user.user_name,
          active: row.user.active,
          doc: row.user.doc,
          groups: row.user.groups.map((g) => ({ id: g.id, displayName: g.displayName, externalId: g.externalId, addedAt: new Date(g.addedAt) })),
        }
      : null,
    policy: row.policy,
    contractEndsAt: row.contract_ends_at,
    tenantStatus: row.tenant_status,
    grants: row.grants.map((g) => ({
      id: g.id,
      connector: g.connector,
      entitlement: g.entitlement,
      state: g.state,
      endsAt: date(g.ends_at),
      createdAt: new Date(g.created_at),
      startedAt: date(g.starts_at),
      endBound: g.end_bound,
      approvalId: g.approval_id,
      holdState: g.hold_state,
      packages: g.packages,
    })),
    userName: row.user_name,
    userUpdatedAt: row.user_updated_at,
    latestHold: row.latest_hold ? { id: row.latest_hold.id, state: row.latest_hold.state, decidedAt: date(row.latest_hold.decided_at) } : null,
    expired: row.expired.map((e) => ({ connector: e.connector, entitlement: e.entitlement, endsAt: new Date(e.ends_at), endBound: e.end_bound })),
    approvals: row.approvals.map((a) => ({
      id: a.id,
      package: a.package,
      state: a.state,
      requestedAt: new Date(a.requested_at),
      deadline: new Date(a.deadline),
      decidedAt: date(a.decided_at),
      endsAt: date(a.ends_at),
      needEndedAt: date(a.need_ended_at),
    })),
    exceptions: row.exceptions.map((x) => ({ id: x.id, package: x.package, startsAt: new Date(x.starts_at), endsAt: new Date(x.ends_at) })),
    accounts: row.accounts.map((a) => ({ connector: a.connector, userId: a.user_id, userName: a.user_name, ref: a.ref, state: a.state, desired: a.desired, lastError: a.last_error })),
    activity: new Map(row.accounts.filter((a) => a.activity_checked_at !== null).map((a) => [a.connector, date(a.last_activity_at)])),
    onDelete: new Map(Object.entries(row.connectors)),
  };
}
