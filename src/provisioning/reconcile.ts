import type pg from 'pg';
import { approversFor, subjectNames } from '../approvals/approval-routing.js';
import { exceptionEntitlements } from '../approvals/exception-entitlements.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import { type BrakeOutcome, throughBrake } from '../lifecycle/brake-step.js';
import type { SponsorshipStatus } from '../lifecycle/sponsorship.js';
import { sponsorshipOf, withoutSponsorIntake } from '../lifecycle/sponsorship-step.js';
import { evaluate, type Evaluation } from '../policy/evaluate.js';
import { DOWNSTREAM_LIVE, type GrantState, type RevokeReason } from '../policy/grant-state.js';
import { addValidDuration, validDurationMs } from '../policy/iso-duration.js';
import { type CurrentGrant, type Plan, type PlannedGrant, type PlannedRevoke, planChanges } from '../policy/plan.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { type UserFacts, userFacts } from '../policy/user-facts.js';
import { type AccountState, setAccountDesired } from '../store/accounts-store.js';
import { insertApproval, markApprovalNeedEnded, moveApproval } from '../store/approvals-store.js';
import { insertGrant, moveGrant, moveGrantEnd } from '../store/grants-store.js';
import { decideHold, openHold } from '../store/holds-store.js';
import { type ReconcileInputs, reconcileInputs } from '../store/reconcile-inputs.js';
import { inTenantTx, type Tx } from '../store/transaction.js';
import type { ConnectorWork } from './jobs.js';
import { SYSTEM_ACTOR, WORKER_TX } from './worker-tx.js';

/** Grants that never reached the downstream end without a downstream call. */
const NEVER_PROVISIONED: readonly GrantState[] = ['requested', 'awaiting_approval'];

export interface ReconcileResult {
  /** Downstream work to queue once the transaction has committed. */
  work: ConnectorWork[];
  /** A deprovision hold this reconcile opened (the brake engaged), for the logs. */
  heldBy: string | null;
}

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
 * append to the audit chain.) The inputs are read by a later statement, so they include any change whose
 * mark the take had to wait for.
 */
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

/** What every step of one reconcile works on. */
interface Step {
  db: Tx;
  tenantId: string;
  userId: string;
  now: Date;
  inputs: ReconcileInputs;
  policy: PolicyDocument | undefined;
  /** Downstream work to queue: at most one job per connector and lane (the account lock keeps the two lanes of one account apart). */
  work: Map<string, ConnectorWork>;
}

function addWork(step: Step, connector: string, lane: ConnectorWork['lane']): void {
  step.work.set(`${connector}\u0000${lane}`, { tenantId: step.tenantId, userId: step.userId, connector, lane });
}

/**
 * The steps, in an order that matters: account rows are written before grant rows, so every transaction
 * takes them in the same order; revocations pass the mass-deprovision brake before any is made.
 */
async function reconcileOnce(db: Tx, tenantId: string, userId: string, now: Date): Promise<ReconcileResult> {
  const inputs = await reconcileInputs(db, tenantId, userId);
  const policy = inputs.policy?.document as PolicyDocument | undefined;
  const facts = inputs.user && policy ? userFacts(inputs.user, policy.intake) : null;
  const sponsorship = inputs.user && policy?.sponsorship && facts ? await sponsorshipOf(db, tenantId, inputs.user, facts, policy, now) : null;
  const plan = planFor(evaluationOf(inputs, policy, facts, sponsorship, now), inputs, policy, now);
  const step: Step = { db, tenantId, userId, now, inputs, policy, work: new Map() };

  const brake = await throughBrake(db, tenantId, userId, inputs, plan.revoke, policy);
  await setAccountIntents(step, plan, brake);
  await insertGrants(step, plan.grant);
  const heldBy = await applyBrake(step, brake);
  await startRevocations(step, brake.revoke);
  await moveEnds(step, plan);
  if (policy && facts) await requestApprovals(step, plan.requestApproval, policy, facts);
  await endApprovals(step, plan.endApproval);
  return { work: [...step.work.values()], heldBy };
}

function evaluationOf(inputs: ReconcileInputs, policy: PolicyDocument | undefined, facts: UserFacts | null, sponsorship: SponsorshipStatus | null, now: Date): Evaluation {
  const { user } = inputs;
  if (inputs.tenantStatus === 'offboarded') return { status: 'offboarded', desired: [] };
  if (sponsorship === 'removed' && user?.active) return { status: 'unsponsored', desired: [] };
  if (user && policy && facts) return evaluate(facts, user.groups, sponsorship ? withoutSponsorIntake(policy) : policy, now, { contractEndsAt: inputs.contractEndsAt });
  return user?.active === false ? { status: 'inactive', desired: [] } : { status: 'eligible', desired: [] };
}

function planFor(evaluation: Evaluation, inputs: ReconcileInputs, policy: PolicyDocument | undefined, now: Date): Plan {
  const inactivityAfter = policy?.inactivity?.after;
  return planChanges(evaluation, inputs.grants, now, {
    expired: inputs.expired,
    ...(inactivityAfter ? { inactivity: { afterMs: validDurationMs(inactivityAfter), lastActivity: inputs.activity } } : {}),
    approvals: inputs.approvals,
    ...(policy ? { renewalWindowMs: validDurationMs(policy.approvals.deadline) } : {}),
    exceptions: policy ? exceptionEntitlements(inputs.exceptions, policy) : [],
  });
}

/** An account is wanted while the user holds (or is getting) something through its connector. */
async function setAccountIntents(step: Step, plan: Plan, brake: BrakeOutcome): Promise<void> {
  const { db, tenantId, userId, inputs } = step;
  const { user, grants, accounts, onDelete } = inputs;
  const revoked = new Set(brake.revoke.map((r) => r.grant.id));
  const holding = new Set([
    ...grants.filter((g) => !revoked.has(g.id) && DOWNSTREAM_LIVE.includes(g.state)).map((g) => g.connector),
    ...plan.grant.filter((g) => onDelete.has(g.desired.connector)).map((g) => g.desired.connector),
  ]);
  for (const account of accounts) {
    if (account.state === 'removed') continue;
    const desired: AccountState = holding.has(account.connector) && user?.active ? 'active' : !user && onDelete.get(account.connector) === 'remove' ? 'removed' : 'disabled';
    if (await setAccountDesired(db, tenantId, account.connector, userId, desired)) addWork(step, account.connector, desired === 'active' ? 'grant' : 'revoke');
  }
}

/** New grants, on their way downstream; one through a connector the tenant lacks is parked as failed. */
async function insertGrants(step: Step, planned: readonly PlannedGrant[]): Promise<void> {
  const { db, tenantId, userId, now, inputs } = step;
  for (const { desired, endsAt, endBound, approvalId, exceptionId } of planned) {
    const known = inputs.onDelete.has(desired.connector);
    const state: GrantState = known ? 'provisioning' : 'failed';
    await insertGrant(
      db,
      tenantId,
      {
        userId,
        userName: inputs.user!.userName,
        connector: desired.connector,
        entitlement: desired.entitlement,
        state,
        reasons: [
          ...desired.reasons.map((r) => ({ rule: r.rule, ruleName: r.ruleName ?? null, package: r.package, group: r.group ? { id: r.group.id, displayName: r.group.displayName } : null })),
          ...(exceptionId ? [{ exception: exceptionId, package: inputs.exceptions.find((x) => x.id === exceptionId)?.package ?? null }] : []),
        ],
        policyVersion: inputs.policy?.version ?? null,
        endsAt,
        endBound,
        approvalId,
        exceptionId,
        createdAt: now,
        ...(known ? {} : { lastError: `invalid_config: the tenant has no connector "${desired.connector}"` }),
      },
      grantEvent('grant.requested', desired.connector, desired.entitlement, {
        state,
        packages: [...new Set(desired.reasons.map((r) => r.package))],
        endsAt: endsAt.toISOString(),
        ...(approvalId ? { approval: approvalId } : {}),
        ...(exceptionId ? { exception: exceptionId } : {}),
      }),
    );
    if (state === 'provisioning') addWork(step, desired.connector, 'grant');
  }
}

/**
 * What the brake decided besides revocations: grants it holds (their access stays in place), held grants
 * put back, and a hold nothing waits on any more. Answers the hold it opened, if any.
 */
async function applyBrake(step: Step, brake: BrakeOutcome): Promise<string | null> {
  const { db, tenantId, userId, inputs } = step;
  let heldBy: string | null = null;
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
  return heldBy;
}

/**
 * Ends grants: one that never reached the downstream ends here; one that may have goes to `revoking` and
 * a revocation job. A connector job may move the grant on (provisioning → active) after it was read here,
 * so each move names every state it may start from rather than the one that was read: a revocation is
 * never lost to that race.
 */
async function startRevocations(step: Step, revocations: readonly PlannedRevoke[]): Promise<void> {
  const { db, tenantId } = step;
  for (const { grant, reason } of revocations) {
    const ended = NEVER_PROVISIONED.includes(grant.state) && (await moveGrant(db, tenantId, grant.id, { from: NEVER_PROVISIONED, to: 'revoked', revokeReason: reason }, revokeEvent('grant.revoked', grant, reason)));
    if (!ended && (await moveGrant(db, tenantId, grant.id, { from: DOWNSTREAM_LIVE, to: 'revoking', revokeReason: reason }, revokeEvent('grant.revoking', grant, reason)))) {
      addWork(step, grant.connector, 'revoke');
    }
  }
}

async function moveEnds(step: Step, plan: Plan): Promise<void> {
  for (const [action, ends] of [['grant.extended', plan.extend], ['grant.shortened', plan.shorten]] as const) {
    for (const { grant, endsAt, endBound, approvalId } of ends) {
      await moveGrantEnd(step.db, step.tenantId, grant.id, { endsAt, endBound, approvalId }, grantEvent(action, grant.connector, grant.entitlement, { endsAt: endsAt.toISOString(), endBound }, grant.id));
    }
  }
}

/** Requests for packages that need an approval, routed to the approvers the policy names now. */
async function requestApprovals(step: Step, requests: Plan['requestApproval'], policy: PolicyDocument, facts: UserFacts): Promise<void> {
  const { db, tenantId, userId, now, inputs } = step;
  const user = inputs.user;
  if (!user) return;
  for (const { package: pkg, desired } of requests) {
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
        policyVersion: inputs.policy?.version ?? null,
        deadline: addValidDuration(now, policy.approvals.deadline),
      },
      { actor: SYSTEM_ACTOR, action: 'approval.requested', resourceType: 'approval', detail: { package: pkg, user: userId } },
    );
  }
}

async function endApprovals(step: Step, ends: Plan['endApproval']): Promise<void> {
  const { db, tenantId, userId } = step;
  for (const { approval, to } of ends) {
    if (to === 'need_ended') {
      await markApprovalNeedEnded(db, tenantId, approval.id);
      continue;
    }
    await moveApproval(db, tenantId, approval.id, { from: approval.state, to }, { actor: SYSTEM_ACTOR, action: `approval.${to}`, resourceType: 'approval', resourceId: approval.id, detail: { package: approval.package, user: userId } });
  }
}

function grantEvent(action: string, connector: string, entitlement: string, detail: Record<string, string | string[]>, id: string | null = null): AuditEventInput {
  return { actor: SYSTEM_ACTOR, action, resourceType: 'grant', resourceId: id, detail: { connector, entitlement, ...detail } };
}

function revokeEvent(action: string, grant: CurrentGrant, reason: RevokeReason): AuditEventInput {
  return grantEvent(action, grant.connector, grant.entitlement, { reason }, grant.id);
}
