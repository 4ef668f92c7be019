import type pg from 'pg';
import type { AuditEventInput } from '../audit/audit-event.js';
import type { GrantState, RevokeReason } from '../policy/grant-state.js';
import { evaluate, type Evaluation } from '../policy/evaluate.js';
import { addValidDuration, validDurationMs } from '../policy/iso-duration.js';
import { type CurrentGrant, type ExceptionEntitlement, type PlannedRevoke, planChanges } from '../policy/plan.js';
import { brakeEngaged, isBraked } from '../lifecycle/brake.js';
import { brakeState, decideHold, logDeprovision, openHold } from '../store/holds-store.js';
import type { BrakeSettings, PolicyDocument } from '../policy/policy-schema.js';
import { type UserFacts, userFacts } from '../policy/user-facts.js';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { decideSponsorship, type SponsorshipStatus } from '../lifecycle/sponsorship.js';
import { saveSponsorship, sponsorshipInputs } from '../store/sponsorships-store.js';
import { type AccountState, setAccountDesired } from '../store/accounts-store.js';
import { type Approvers, insertApproval, markApprovalNeedEnded, moveApproval } from '../store/approvals-store.js';
import { insertGrant, moveGrant, moveGrantEnd } from '../store/grants-store.js';
import { type ExceptionRecord, type ReconcileInputs, reconcileInputs } from '../store/reconcile-inputs.js';
import { inTenantTx, type Tx } from '../store/transaction.js';
import type { ConnectorWork } from './jobs.js';

/** Lanyard's own actions in the audit trail. */
export const SYSTEM_ACTOR = 'system:reconcile';

/** How the workers' transactions run: see TxOptions. */
export const WORKER_TX = { asyncCommit: true, deadlockRetries: 3 } as const;

/** The brake of a tenant without a policy: the policy file's defaults. */
const DEFAULT_BRAKE: BrakeSettings = { enabled: true, window: 'PT1H', minimum: 50, percent: 5 };

/** Grants that never reached the downstream end without a downstream call. */
const NEVER_PROVISIONED: readonly GrantState[] = ['requested', 'awaiting_approval'];
/** Grants that may have reached the downstream: they end through a revocation job. */
const DOWNSTREAM_LIVE: readonly GrantState[] = ['provisioning', 'active', 'failed', 'held'];

/**
 * Brings one user's recorded access in line with the tenant's policy, in one transaction: evaluate → plan
 * → grant rows and their audit events → account intents. Answers the downstream work it created, to be
 * queued once the transaction has committed; the calls themselves happen in connector jobs, so this
 * transaction stays short.
 *
 * It starts by taking the user's outbox row. Deleting it first is what orders everything: a second
 * reconcile of the user waits on the row and then finds nothing to do, and a change that lands meanwhile
 * waits on it too and marks the user afresh once this one has committed, so it is reconciled after it and
 * never lost. (Taking the row first also keeps the lock order of SCIM writes, which mark users before they
 * append to the audit chain.)
 */
export interface ReconcileResult {
  /** Downstream work to queue once the transaction has committed. */
  work: ConnectorWork[];
  /** A deprovision hold this reconcile opened (the brake engaged), for the logs. */
  heldBy: string | null;
}

export async function reconcileUser(pool: pg.Pool, tenantId: string, userId: string, now: Date = new Date()): Promise<ReconcileResult> {
  return inTenantTx(pool, tenantId, async (db) => {
    const { rowCount } = await db.query({
      name: 'reconcile.take',
      text: 'DELETE FROM reconcile_outbox WHERE tenant_id = $1 AND user_id = $2',
      values: [tenantId, userId],
    });
    if (rowCount === 0) return { work: [], heldBy: null };
    return reconcileOnce(db, tenantId, userId, now);
  }, WORKER_TX);
}

async function reconcileOnce(db: Tx, tenantId: string, userId: string, now: Date): Promise<ReconcileResult> {
  const inputs = await reconcileInputs(db, tenantId, userId);
  const { user, policy: policyVersion, grants, accounts, onDelete } = inputs;
  const policy = policyVersion?.document as PolicyDocument | undefined;
  const facts = user && policy ? userFacts(user, policy.intake) : null;
  const sponsorship = user && policy?.sponsorship && facts ? await sponsorshipOf(db, tenantId, user, facts, policy, now) : null;
  const evaluation: Evaluation =
    inputs.tenantStatus === 'offboarded'
      ? { status: 'offboarded', desired: [] }
      : sponsorship === 'removed' && user?.active
        ? { status: 'unsponsored', desired: [] }
        : user && policy && facts
          ? evaluate(facts, user.groups, sponsorship ? withoutSponsorIntake(policy) : policy, now, { contractEndsAt: inputs.contractEndsAt })
          : user?.active === false
            ? { status: 'inactive', desired: [] }
            : { status: 'eligible', desired: [] };
  const inactivityAfter = policy?.inactivity?.after;
  const plan = planChanges(evaluation, grants, now, {
    expired: inputs.expired,
    ...(inactivityAfter ? { inactivity: { afterMs: validDurationMs(inactivityAfter), lastActivity: inputs.activity } } : {}),
    approvals: inputs.approvals,
    ...(policy ? { renewalWindowMs: validDurationMs(policy.approvals.deadline) } : {}),
    exceptions: policy ? exceptionEntitlements(inputs.exceptions, policy) : [],
  });
  const work = new Map<string, ConnectorWork>();
  let heldBy: string | null = null;
  // At most one job per connector and lane; the account lock keeps the two lanes of one account apart.
  const addWork = (connector: string, lane: ConnectorWork['lane']) => work.set(`${connector}\u0000${lane}`, { tenantId, userId, connector, lane });

  // Revocations pass the mass-deprovision brake first: what it holds stays in place downstream.
  const brake = await throughBrake(db, tenantId, userId, inputs, plan.revoke, policy);

  // An account is wanted while the user holds (or is getting) something through its connector. Written
  // before the grants, so every transaction takes account rows in the same order.
  const revoked = new Set(brake.revoke.map((r) => r.grant.id));
  const holding = new Set([
    ...grants.filter((g) => !revoked.has(g.id) && ['provisioning', 'active', 'failed', 'held'].includes(g.state)).map((g) => g.connector),
    ...plan.grant.filter((g) => onDelete.has(g.desired.connector)).map((g) => g.desired.connector),
  ]);
  for (const account of accounts) {
    if (account.state === 'removed') continue;
    const desired: AccountState = holding.has(account.connector) && user?.active ? 'active' : !user && onDelete.get(account.connector) === 'remove' ? 'removed' : 'disabled';
    if (await setAccountDesired(db, tenantId, account.connector, userId, desired)) {
      addWork(account.connector, desired === 'active' ? 'grant' : 'revoke');
    }
  }
  for (const planned of plan.grant) {
    const { desired } = planned;
    const known = onDelete.has(desired.connector);
    const state: GrantState = known ? 'provisioning' : 'failed';
    await insertGrant(
      db,
      tenantId,
      {
        userId,
        userName: user!.userName,
        connector: desired.connector,
        entitlement: desired.entitlement,
        state,
        reasons: [
          ...desired.reasons.map((r) => ({ rule: r.rule, ruleName: r.ruleName ?? null, package: r.package, group: r.group ? { id: r.group.id, displayName: r.group.displayName } : null })),
          ...(planned.exceptionId ? [{ exception: planned.exceptionId, package: inputs.exceptions.find((x) => x.id === planned.exceptionId)?.package ?? null }] : []),
        ],
        policyVersion: policyVersion?.version ?? null,
        endsAt: planned.endsAt,
        endBound: planned.endBound,
        approvalId: planned.approvalId,
        exceptionId: planned.exceptionId,
        createdAt: now,
        ...(known ? {} : { lastError: `invalid_config: the tenant has no connector "${desired.connector}"` }),
      },
      grantEvent('grant.requested', desired.connector, desired.entitlement, {
        state,
        packages: [...new Set(desired.reasons.map((r) => r.package))],
        endsAt: planned.endsAt.toISOString(),
        ...(planned.approvalId ? { approval: planned.approvalId } : {}),
        ...(planned.exceptionId ? { exception: planned.exceptionId } : {}),
      }),
    );
    if (state === 'provisioning') addWork(desired.connector, 'grant');
  }

  if (brake.hold.length) {
    const hold = await openHold(db, tenantId, { id: userId, userName: inputs.userName ?? userId }, brake.hold[0]!.reason, {
      actor: SYSTEM_ACTOR,
      action: 'hold.opened',
      resourceType: 'hold',
      detail: { user: userId, reason: brake.hold[0]!.reason, grants: brake.hold.length },
    });
    if (hold.created) heldBy = hold.id;
    for (const { grant, reason } of brake.hold) {
      await moveGrant(db, tenantId, grant.id, { from: DOWNSTREAM_LIVE, to: 'held', revokeReason: reason, holdId: hold.id }, revokeEvent('grant.held', grant, reason));
    }
  }
  for (const grant of brake.restore) {
    await moveGrant(db, tenantId, grant.id, { from: ['held'], to: 'active', clearRevokeReason: true }, grantEvent('grant.restored', grant.connector, grant.entitlement, {}, grant.id));
  }
  if (brake.withdraw) {
    await decideHold(db, tenantId, brake.withdraw, 'withdrawn', { by: SYSTEM_ACTOR, reason: 'the IdP no longer asks for the deprovision' }, {
      actor: SYSTEM_ACTOR,
      action: 'hold.withdrawn',
      resourceType: 'hold',
      resourceId: brake.withdraw,
      detail: { user: userId },
    });
  }

  for (const { grant, reason } of brake.revoke) {
    // A connector job may move the grant on (provisioning → active) after it was read here, so each move
    // names every state it may start from rather than the one that was read: a revocation is never lost
    // to that race.
    const ended = NEVER_PROVISIONED.includes(grant.state) && (await moveGrant(db, tenantId, grant.id, { from: NEVER_PROVISIONED, to: 'revoked', revokeReason: reason }, revokeEvent('grant.revoked', grant, reason)));
    if (!ended && (await moveGrant(db, tenantId, grant.id, { from: DOWNSTREAM_LIVE, to: 'revoking', revokeReason: reason }, revokeEvent('grant.revoking', grant, reason)))) {
      addWork(grant.connector, 'revoke');
    }
  }

  for (const [action, ends] of [['grant.extended', plan.extend], ['grant.shortened', plan.shorten]] as const) {
    for (const { grant, endsAt, endBound, approvalId } of ends) {
      await moveGrantEnd(db, tenantId, grant.id, { endsAt, endBound, approvalId }, grantEvent(action, grant.connector, grant.entitlement, { endsAt: endsAt.toISOString(), endBound }, grant.id));
    }
  }

  if (user && policy && facts) {
    for (const { package: pkg, desired } of plan.requestApproval) {
      await insertApproval(
        db,
        tenantId,
        {
          userId,
          userName: user.userName,
          package: pkg,
          approvers: approversFor(policy, pkg, facts.intake.sponsor ?? null),
          subjectNames: subjectNames(user),
          reasons: desired.flatMap((d) => d.reasons.filter((r) => r.package === pkg)).map((r) => ({ rule: r.rule, ruleName: r.ruleName ?? null, group: r.group ? { id: r.group.id, displayName: r.group.displayName } : null })),
          policyVersion: policyVersion?.version ?? null,
          deadline: addValidDuration(now, policy.approvals.deadline),
        },
        { actor: SYSTEM_ACTOR, action: 'approval.requested', resourceType: 'approval', detail: { package: pkg, user: userId } },
      );
    }
  }
  for (const { approval, to } of plan.endApproval) {
    if (to === 'need_ended') {
      await markApprovalNeedEnded(db, tenantId, approval.id);
      continue;
    }
    await moveApproval(db, tenantId, approval.id, { from: approval.state, to }, { actor: SYSTEM_ACTOR, action: `approval.${to}`, resourceType: 'approval', resourceId: approval.id, detail: { package: approval.package, user: userId } });
  }

  return { work: [...work.values()], heldBy };
}

/**
 * Decides and records where the user stands with their sponsor (see decideSponsorship); a lapse and a
 * restoration are audited. Only for policies with a `sponsorship` section.
 */
async function sponsorshipOf(db: Tx, tenantId: string, user: { id: string; userName: string }, facts: UserFacts, policy: PolicyDocument, now: Date): Promise<SponsorshipStatus> {
  const sponsor = facts.intake.sponsor;
  const { sponsorActive, previous } = await sponsorshipInputs(db, tenantId, user.id, sponsor ?? null);
  const grace = policy.sponsorship?.grace;
  const graceMs = grace ? validDurationMs(grace) : 0;
  const decision = decideSponsorship({ userName: user.userName, sponsor, sponsorActive, previous, graceMs, now });
  const n = decision.next;
  if (!previous || previous.sponsor !== n.sponsor || previous.lapsedSince?.getTime() !== n.lapsedSince?.getTime() || previous.ended !== n.ended) {
    await saveSponsorship(db, tenantId, user.id, n);
  }
  if (decision.change) {
    recordAuditEvent(db, tenantId, {
      actor: SYSTEM_ACTOR,
      action: decision.change === 'lapsed' ? 'user.sponsor_lapsed' : 'user.sponsor_restored',
      resourceType: 'user',
      resourceId: user.id,
      detail: decision.change === 'lapsed' ? { revokeAt: n.revokeAt!.toISOString() } : {},
    });
  }
  return decision.status;
}

/** The sponsor is then checked as a sponsorship (with its grace), not as a missing intake attribute. */
function withoutSponsorIntake(policy: PolicyDocument): PolicyDocument {
  return { ...policy, intake: { ...policy.intake, required: policy.intake.required.filter((k) => k !== 'sponsor') } };
}

interface BrakeOutcome {
  revoke: PlannedRevoke[];
  hold: PlannedRevoke[];
  /** Held grants to put back: the hold was rejected, or the IdP no longer asks for the deprovision. */
  restore: CurrentGrant[];
  /** A pending hold nothing waits on any more. */
  withdraw: string | null;
}

/**
 * Sorts the planned revocations through the mass-deprovision brake. Grants already held wait for their
 * hold's decision (released: revoked now; rejected: back to active). Counted revocations are held while
 * the brake is engaged; otherwise the deprovision is logged and goes ahead. An operator's rejection stands
 * until the IdP changes the user again.
 */
async function throughBrake(db: Tx, tenantId: string, userId: string, inputs: ReconcileInputs, planned: readonly PlannedRevoke[], policy: PolicyDocument | undefined): Promise<BrakeOutcome> {
  const out: BrakeOutcome = { revoke: [], hold: [], restore: [], withdraw: null };
  const counted: PlannedRevoke[] = [];
  const revoking = new Set(planned.map((r) => r.grant.id));
  for (const r of planned) {
    const reason: RevokeReason = inputs.user ? r.reason : 'deleted';
    const grant = inputs.grants.find((g) => g.id === r.grant.id)!;
    if (grant.state === 'held') {
      // A planned end (expiry) does not wait for the hold; what the brake counts waits for its decision.
      if (!isBraked(reason) || (grant.holdState !== 'pending' && grant.holdState !== 'rejected')) out.revoke.push({ grant, reason });
      else if (grant.holdState === 'rejected') out.restore.push(grant);
      continue;
    }
    if (isBraked(reason) && DOWNSTREAM_LIVE.includes(grant.state)) counted.push({ grant, reason });
    else out.revoke.push({ grant, reason });
  }
  // Held grants still wanted: the deprovision was taken back.
  const stillHeld = inputs.grants.filter((g) => g.state === 'held' && !revoking.has(g.id));
  out.restore.push(...stillHeld);
  if (stillHeld.length && inputs.latestHold?.state === 'pending' && !inputs.grants.some((g) => g.state === 'held' && revoking.has(g.id))) out.withdraw = inputs.latestHold.id;

  if (counted.length === 0) return out;
  const latest = inputs.latestHold;
  if (latest?.state === 'rejected' && latest.decidedAt && inputs.userUpdatedAt && inputs.userUpdatedAt <= latest.decidedAt) return out;
  const settings = policy?.brake ?? DEFAULT_BRAKE;
  const state = await brakeState(db, tenantId, validDurationMs(settings.window));
  if (brakeEngaged(settings, state)) {
    out.hold.push(...counted);
  } else {
    await logDeprovision(db, tenantId, userId);
    out.revoke.push(...counted);
  }
  return out;
}

/** Emergency access expanded to the entitlements of its package, as the policy now defines it. */
function exceptionEntitlements(exceptions: readonly ExceptionRecord[], policy: PolicyDocument): ExceptionEntitlement[] {
  return exceptions.flatMap((x) =>
    Object.entries(policy.packages[x.package]?.entitlements ?? {}).flatMap(([connector, entitlements]) =>
      entitlements.map((entitlement) => ({ exceptionId: x.id, connector, entitlement, startsAt: x.startsAt, endsAt: x.endsAt })),
    ),
  );
}

/** Who may decide a request for `pkg`, resolved now from the policy and the user's sponsor. */
function approversFor(policy: PolicyDocument, pkg: string, sponsor: string | null): Approvers {
  const routes = policy.packages[pkg]?.approvers ?? policy.approvals.approvers;
  return {
    routes: [...routes],
    sponsor: routes.includes('sponsor') ? sponsor : null,
    tenant: routes.includes('tenant') ? policy.approvals.tenantApprovers : [],
    msp: routes.includes('msp') ? policy.approvals.mspApprovers : [],
  };
}

/** Every name the user goes by: none of them may approve the user's own access. */
function subjectNames(user: { userName: string; doc: Record<string, unknown> }): string[] {
  const emails = Array.isArray(user.doc['emails']) ? (user.doc['emails'] as { value?: unknown }[]) : [];
  const names = [user.userName, ...emails.map((e) => e?.value).filter((v): v is string => typeof v === 'string')];
  return [...new Set(names.map((n) => n.trim().toLowerCase()))];
}

function grantEvent(action: string, connector: string, entitlement: string, detail: Record<string, string | string[]>, id: string | null = null): AuditEventInput {
  return { actor: SYSTEM_ACTOR, action, resourceType: 'grant', resourceId: id, detail: { connector, entitlement, ...detail } };
}

function revokeEvent(action: string, grant: CurrentGrant, reason: RevokeReason): AuditEventInput {
  return grantEvent(action, grant.connector, grant.entitlement, { reason }, grant.id);
}
