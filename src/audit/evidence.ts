import type pg from 'pg';
import { z } from 'zod';
import { DomainError } from '../errors/domain-error.js';
import type { Queryable } from '../store/pool.js';
import { inTenantBySlug } from '../tenants/tenant-service.js';

/**
 * The evidence an auditor asks for, per user: every grant, current and past, with why it was made (rule,
 * group, policy version), who approved it or which emergency exception allowed it, when it was requested,
 * started, held and ended, and the grant's own audit events; plus what was asked for and never granted
 * (requests denied, expired, cancelled or still pending), emergency access and brake holds no grant refers
 * to. Read from the grant rows (which are never deleted), the approval, exception and hold records, and
 * the audit events of each grant and request.
 */

/** One audit event of a grant or approval request, from the tenant's hash chain. */
export interface EvidenceEvent {
  seq: number;
  at: Date;
  action: string;
  actor: string;
  /** The event's detail as hashed: ids, reasons, new end dates; never attribute values. */
  detail: Record<string, unknown>;
}

/** One rule of the policy that asked for the access: which rule, through which package, matched by which group. */
export interface RuleReason {
  /** The rule's index in the policy's `rules` (0-based, as policy errors name it). */
  rule: number;
  ruleName: string | null;
  package: string | null;
  group: { id: string; displayName: string } | null;
}

export interface ApprovalEvidence {
  id: string;
  package: string;
  state: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'closed';
  /** Who could decide, as resolved when the request was made. */
  approvers: { routes: string[]; sponsor: string | null; tenant: string[]; msp: string[] };
  rules: RuleReason[];
  policyVersion: number | null;
  requestedAt: Date;
  deadline: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  /** An approval's own end: access granted through it ends then at the latest. */
  endsAt: Date | null;
  events: EvidenceEvent[];
}

export interface ExceptionEvidence {
  id: string;
  package: string;
  grantedBy: string;
  reason: string;
  startsAt: Date;
  endsAt: Date;
}

export interface HoldEvidence {
  id: string;
  state: 'pending' | 'released' | 'rejected' | 'withdrawn';
  /** Why access was to end when the brake held it: deactivated, deleted, policy… */
  reason: string;
  createdAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
}

export interface GrantEvidence {
  id: string;
  /** The user's name when the grant was made (users may be renamed or deleted since). */
  userName: string;
  connector: string;
  entitlement: string;
  state: string;
  rules: RuleReason[];
  /** Every package the grant serves, from its rules and its emergency exception. */
  packages: string[];
  policyVersion: number | null;
  requestedAt: Date;
  /** When the entitlement was in place downstream; null if it never was. */
  startedAt: Date | null;
  endsAt: Date | null;
  /** What set the end: 'package' | 'user' | 'contract' | 'approval' | 'exception'. */
  endBound: string | null;
  /** Why the access ended or is ending (also set while the brake holds the grant). */
  revokeReason: string | null;
  lastError: string | null;
  /** The approvals the grant was made and renewed under, oldest first. */
  approvals: ApprovalEvidence[];
  exception: ExceptionEvidence | null;
  /** The hold the brake put the grant under, the latest one if several. */
  hold: HoldEvidence | null;
  events: EvidenceEvent[];
}

export type UserStatus = 'active' | 'inactive' | 'deleted';

export interface UserEvidence {
  userId: string;
  /** The user's name now, or the last one recorded when the IdP has deleted the user. */
  userName: string;
  status: UserStatus;
  /** Oldest first. */
  grants: GrantEvidence[];
  /** Requests no grant was made under: denied, expired, cancelled, pending, or closed before provisioning. */
  requestsWithoutGrant: ApprovalEvidence[];
  exceptionsWithoutGrant: ExceptionEvidence[];
  /** Holds no grant points at any more: withdrawn or rejected ones the grant has since left. */
  holdsWithoutGrant: HoldEvidence[];
}

export interface EvidenceHeader {
  tenant: { id: string; slug: string; name: string };
  /** The user name asked for, or null for the whole tenant. */
  userName: string | null;
  generatedAt: Date;
}

/** Where the evidence goes, a batch of users at a time, so a tenant of any size is never held in memory. */
export interface EvidenceSink {
  begin(header: EvidenceHeader): Promise<void> | void;
  users(batch: UserEvidence[]): Promise<void> | void;
}

export interface EvidenceOptions {
  /** Only this user (by userName, case-insensitively, current or as recorded on its grants and requests). */
  userName?: string | undefined;
  batchSize?: number;
  now?: Date;
}

/**
 * Reads a tenant's evidence in one read-only transaction and hands it to `sink`, users ordered by name, a
 * batch of users at a time: one cursor over the users with any record, and one statement per batch that
 * returns each user's grants, requests, exceptions and holds with their audit events, so each user is read
 * from one snapshot. Answers how many users were reported.
 */
export async function collectEvidence(pool: pg.Pool, slug: string, sink: EvidenceSink, opts: EvidenceOptions = {}): Promise<number> {
  const batchSize = opts.batchSize ?? 200;
  return inTenantBySlug(
    pool,
    slug,
    async (db, tenant) => {
      let only: string[] | null = null;
      if (opts.userName !== undefined) {
        only = await userIdsNamed(db, tenant.id, opts.userName);
        if (only.length === 0) throw new DomainError('not_found', `tenant "${slug}" has no user "${opts.userName}" and no access recorded under that name`);
      }
      await sink.begin({ tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name }, userName: opts.userName ?? null, generatedAt: opts.now ?? new Date() });
      await db.query({ text: USERS_CURSOR, values: [tenant.id, only] });
      let reported = 0;
      for (;;) {
        const { rows } = await db.query<UserRow>(`FETCH ${batchSize} FROM lanyard_evidence_users`);
        if (rows.length === 0) break;
        const records = await recordsOf(db, tenant.id, rows.map((r) => r.user_id));
        await sink.users(rows.map((r) => assembleUser(r, records.get(r.user_id))));
        reported += rows.length;
        if (rows.length < batchSize) break;
      }
      return reported;
    },
    { readOnly: true },
  );
}

/**
 * Every user known by that name: the user of that name now, and users whose grants, requests, exceptions
 * or holds were recorded under it (renamed or deleted since). Usually one; a name reused after a deletion
 * is two users, and both are reported.
 */
async function userIdsNamed(db: Queryable, tenantId: string, userName: string): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    `SELECT id AS user_id FROM users WHERE tenant_id = $1 AND user_name_folded = lower($2)
     UNION SELECT user_id FROM grants WHERE tenant_id = $1 AND lower(user_name) = lower($2)
     UNION SELECT user_id FROM approval_requests WHERE tenant_id = $1 AND lower(user_name) = lower($2)
     UNION SELECT user_id FROM access_exceptions WHERE tenant_id = $1 AND lower(user_name) = lower($2)
     UNION SELECT user_id FROM deprovision_holds WHERE tenant_id = $1 AND lower(user_name) = lower($2)`,
    [tenantId, userName],
  );
  return rows.map((r) => r.user_id);
}

interface UserRow {
  user_id: string;
  user_name: string;
  status: UserStatus;
}

/**
 * The users with anything on record, by name: a user deleted by the IdP is still named by the last record
 * made for it. Sorted once, then fetched in batches (a cursor lives to the end of the transaction).
 */
const USERS_CURSOR = `DECLARE lanyard_evidence_users NO SCROLL CURSOR FOR
  SELECT s.user_id, COALESCE(u.user_name, s.user_name) AS user_name,
         CASE WHEN u.id IS NULL THEN 'deleted' WHEN u.active THEN 'active' ELSE 'inactive' END AS status
    FROM (SELECT DISTINCT ON (r.user_id) r.user_id, r.user_name
            FROM (SELECT user_id, user_name, created_at AS at FROM grants WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2))
                  UNION ALL
                  SELECT user_id, user_name, requested_at FROM approval_requests WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2))
                  UNION ALL
                  SELECT user_id, user_name, starts_at FROM access_exceptions WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2))
                  UNION ALL
                  SELECT user_id, user_name, created_at FROM deprovision_holds WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2))) r
           ORDER BY r.user_id, r.at DESC) s
    LEFT JOIN users u ON u.tenant_id = $1 AND u.id = s.user_id
   ORDER BY lower(COALESCE(u.user_name, s.user_name)), s.user_id`;

/**
 * The audit events of a record (resource `type`, id as text in `id`), oldest first, as a JSON array. The id
 * is compared as text already cast: a cast in the condition would keep row-level security from letting
 * the audit trail's resource index answer it (casts are not leakproof), and each lookup would scan the trail.
 */
const eventsOf = (type: string, id: string) => `(SELECT COALESCE(jsonb_agg(jsonb_build_object(
            'seq', e.seq, 'at', e.occurred_at, 'action', e.action, 'actor', e.actor, 'detail', (e.entry::jsonb) -> 'detail') ORDER BY e.seq), '[]'::jsonb)
       FROM audit_events e WHERE e.tenant_id = $1 AND e.resource_type = '${type}' AND e.resource_id = ${id})`;

/**
 * Everything on record for a batch of users, one row per user, each kind of record as a JSON array, in one
 * statement so that each user is read from one snapshot. Records are found through their user indexes,
 * their events through the audit trail's resource index.
 */
const RECORDS = `WITH
  g AS MATERIALIZED (SELECT *, id::text AS resource FROM grants WHERE tenant_id = $1 AND user_id = ANY($2::uuid[])),
  a AS MATERIALIZED (SELECT *, id::text AS resource FROM approval_requests WHERE tenant_id = $1 AND user_id = ANY($2::uuid[])),
  grants_of AS (
    SELECT g.user_id, jsonb_agg(jsonb_build_object(
             'id', g.id, 'userName', g.user_name, 'connector', g.connector, 'entitlement', g.entitlement, 'state', g.state,
             'reasons', g.reasons, 'policyVersion', g.policy_version, 'createdAt', g.created_at, 'startsAt', g.starts_at,
             'endsAt', g.ends_at, 'endBound', g.end_bound, 'revokeReason', g.revoke_reason, 'approvalId', g.approval_id,
             'exceptionId', g.exception_id, 'holdId', g.hold_id, 'lastError', g.last_error,
             'events', ${eventsOf('grant', 'g.resource')}) ORDER BY g.created_at, g.id) AS list
      FROM g GROUP BY g.user_id),
  approvals_of AS (
    SELECT a.user_id, jsonb_agg(jsonb_build_object(
             'id', a.id, 'package', a.package, 'state', a.state, 'approvers', a.approvers, 'reasons', a.reasons,
             'policyVersion', a.policy_version, 'requestedAt', a.requested_at, 'deadline', a.deadline, 'decidedBy', a.decided_by,
             'decidedAt', a.decided_at, 'decisionReason', a.decision_reason, 'endsAt', a.ends_at,
             'events', ${eventsOf('approval', 'a.resource')}) ORDER BY a.requested_at, a.id) AS list
      FROM a GROUP BY a.user_id),
  exceptions_of AS (
    SELECT x.user_id, jsonb_agg(jsonb_build_object(
             'id', x.id, 'package', x.package, 'grantedBy', x.granted_by, 'reason', x.reason, 'startsAt', x.starts_at, 'endsAt', x.ends_at)
             ORDER BY x.starts_at, x.id) AS list
      FROM access_exceptions x WHERE x.tenant_id = $1 AND x.user_id = ANY($2::uuid[]) GROUP BY x.user_id),
  holds_of AS (
    SELECT h.user_id, jsonb_agg(jsonb_build_object(
             'id', h.id, 'state', h.state, 'reason', h.reason, 'createdAt', h.created_at, 'decidedBy', h.decided_by,
             'decidedAt', h.decided_at, 'decisionReason', h.decision_reason) ORDER BY h.created_at, h.id) AS list
      FROM deprovision_holds h WHERE h.tenant_id = $1 AND h.user_id = ANY($2::uuid[]) GROUP BY h.user_id)
SELECT b.user_id,
       COALESCE(grants_of.list, '[]'::jsonb) AS grants,
       COALESCE(approvals_of.list, '[]'::jsonb) AS approvals,
       COALESCE(exceptions_of.list, '[]'::jsonb) AS exceptions,
       COALESCE(holds_of.list, '[]'::jsonb) AS holds
  FROM unnest($2::uuid[]) AS b(user_id)
  LEFT JOIN grants_of USING (user_id)
  LEFT JOIN approvals_of USING (user_id)
  LEFT JOIN exceptions_of USING (user_id)
  LEFT JOIN holds_of USING (user_id)`;

// JSON renders timestamps with the session's offset and microseconds; Date keeps milliseconds, as pg does.
const instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text));

const eventSchema = z.object({
  seq: z.number(),
  at: instant,
  action: z.string(),
  actor: z.string(),
  detail: z.record(z.string(), z.unknown()).nullable().transform((d) => d ?? {}),
});

const groupSchema = z.object({ id: z.string(), displayName: z.string() }).nullish().transform((g) => g ?? null);

/** A grant's reasons: a rule (with its package and group) or an emergency exception. */
const grantReasonSchema = z.object({
  rule: z.number().optional(),
  ruleName: z.string().nullish(),
  package: z.string().nullish(),
  group: groupSchema,
  exception: z.string().optional(),
});

const grantSchema = z.object({
  id: z.string(),
  userName: z.string(),
  connector: z.string(),
  entitlement: z.string(),
  state: z.string(),
  reasons: z.array(grantReasonSchema),
  policyVersion: z.number().nullable(),
  createdAt: instant,
  startsAt: instant.nullable(),
  endsAt: instant.nullable(),
  endBound: z.string().nullable(),
  revokeReason: z.string().nullable(),
  approvalId: z.string().nullable(),
  exceptionId: z.string().nullable(),
  holdId: z.string().nullable(),
  lastError: z.string().nullable(),
  events: z.array(eventSchema),
});

const approvalSchema = z.object({
  id: z.string(),
  package: z.string(),
  state: z.enum(['pending', 'approved', 'denied', 'expired', 'cancelled', 'closed']),
  approvers: z.object({
    routes: z.array(z.string()).default([]),
    sponsor: z.string().nullish().transform((s) => s ?? null),
    tenant: z.array(z.string()).default([]),
    msp: z.array(z.string()).default([]),
  }),
  reasons: z.array(z.object({ rule: z.number(), ruleName: z.string().nullish(), group: groupSchema })),
  policyVersion: z.number().nullable(),
  requestedAt: instant,
  deadline: instant,
  decidedBy: z.string().nullable(),
  decidedAt: instant.nullable(),
  decisionReason: z.string().nullable(),
  endsAt: instant.nullable(),
  events: z.array(eventSchema),
});

const exceptionSchema = z.object({ id: z.string(), package: z.string(), grantedBy: z.string(), reason: z.string(), startsAt: instant, endsAt: instant });

const holdSchema = z.object({
  id: z.string(),
  state: z.enum(['pending', 'released', 'rejected', 'withdrawn']),
  reason: z.string(),
  createdAt: instant,
  decidedBy: z.string().nullable(),
  decidedAt: instant.nullable(),
  decisionReason: z.string().nullable(),
});

const recordsSchema = z.object({
  user_id: z.string(),
  grants: z.array(grantSchema),
  approvals: z.array(approvalSchema),
  exceptions: z.array(exceptionSchema),
  holds: z.array(holdSchema),
});

type UserRecords = z.output<typeof recordsSchema>;

async function recordsOf(db: Queryable, tenantId: string, userIds: string[]): Promise<Map<string, UserRecords>> {
  const { rows } = await db.query({ name: 'evidence.records', text: RECORDS, values: [tenantId, userIds] });
  return new Map(rows.map((row) => recordsSchema.parse(row)).map((r) => [r.user_id, r]));
}

/**
 * Ties each grant to the approvals it was made or renewed under (the one named when it was requested and
 * the one it carries now), its emergency exception and its hold; what no grant refers to is listed apart.
 */
function assembleUser(user: UserRow, records: UserRecords | undefined): UserEvidence {
  const approvals = new Map(
    (records?.approvals ?? []).map(({ reasons, ...a }): [string, ApprovalEvidence] => [
      a.id,
      { ...a, rules: reasons.map((r) => ({ rule: r.rule, ruleName: r.ruleName ?? null, package: a.package, group: r.group })) },
    ]),
  );
  const exceptions = new Map((records?.exceptions ?? []).map((x) => [x.id, x]));
  const holds = new Map((records?.holds ?? []).map((h) => [h.id, h]));
  const used = { approvals: new Set<string>(), exceptions: new Set<string>(), holds: new Set<string>() };

  const grants = (records?.grants ?? []).map((g): GrantEvidence => {
    const requested = g.events.find((e) => e.action === 'grant.requested');
    const approvalIds = [...new Set([requested?.detail['approval'], g.approvalId].filter((id): id is string => typeof id === 'string'))];
    const exceptionId = g.exceptionId ?? g.reasons.find((r) => r.exception)?.exception ?? null;
    for (const id of approvalIds) used.approvals.add(id);
    if (exceptionId) used.exceptions.add(exceptionId);
    if (g.holdId) used.holds.add(g.holdId);
    const rules = g.reasons.filter((r) => r.rule !== undefined).map((r) => ({ rule: r.rule!, ruleName: r.ruleName ?? null, package: r.package ?? null, group: r.group }));
    return {
      id: g.id,
      userName: g.userName,
      connector: g.connector,
      entitlement: g.entitlement,
      state: g.state,
      rules,
      packages: [...new Set(g.reasons.map((r) => r.package).filter((p): p is string => typeof p === 'string'))],
      policyVersion: g.policyVersion,
      requestedAt: g.createdAt,
      startedAt: g.startsAt,
      endsAt: g.endsAt,
      endBound: g.endBound,
      revokeReason: g.revokeReason,
      lastError: g.lastError,
      approvals: approvalIds.map((id) => approvals.get(id)).filter((a) => a !== undefined).sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime()),
      exception: (exceptionId && exceptions.get(exceptionId)) || null,
      hold: (g.holdId && holds.get(g.holdId)) || null,
      events: g.events,
    };
  });

  return {
    userId: user.user_id,
    userName: user.user_name,
    status: user.status,
    grants,
    requestsWithoutGrant: [...approvals.values()].filter((a) => !used.approvals.has(a.id)),
    exceptionsWithoutGrant: [...exceptions.values()].filter((x) => !used.exceptions.has(x.id)),
    holdsWithoutGrant: [...holds.values()].filter((h) => !used.holds.has(h.id)),
  };
}
