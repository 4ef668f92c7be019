import type pg from 'pg';
import type { AuditEventInput } from '../audit/audit-event.js';
import type { GrantState, RevokeReason } from '../policy/grant-state.js';
import { evaluate, type Evaluation } from '../policy/evaluate.js';
import { type CurrentGrant, planChanges } from '../policy/plan.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { userFacts } from '../policy/user-facts.js';
import { type AccountState, setAccountDesired } from '../store/accounts-store.js';
import { extendGrant, insertGrant, moveGrant } from '../store/grants-store.js';
import type { Queryable } from '../store/pool.js';
import { reconcileInputs } from '../store/reconcile-inputs.js';
import { inTenantTx } from '../store/transaction.js';
import type { ConnectorWork } from './jobs.js';

/** Lanyard's own actions in the audit trail. */
export const SYSTEM_ACTOR = 'system:reconcile';

/** How the workers' transactions run: see TxOptions. */
export const WORKER_TX = { asyncCommit: true, deadlockRetries: 3 } as const;

/** Grants that never reached the downstream end without a downstream call. */
const NEVER_PROVISIONED: readonly GrantState[] = ['requested', 'awaiting_approval', 'held'];
/** Grants that may have reached the downstream: they end through a revocation job. */
const DOWNSTREAM_LIVE: readonly GrantState[] = ['provisioning', 'active', 'failed'];

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
export async function reconcileUser(pool: pg.Pool, tenantId: string, userId: string, now: Date = new Date()): Promise<ConnectorWork[]> {
  return inTenantTx(pool, tenantId, async (db) => {
    const { rowCount } = await db.query({
      name: 'reconcile.take',
      text: 'DELETE FROM reconcile_outbox WHERE tenant_id = $1 AND user_id = $2',
      values: [tenantId, userId],
    });
    if (rowCount === 0) return [];
    return reconcileOnce(db, tenantId, userId, now);
  }, WORKER_TX);
}

async function reconcileOnce(db: Queryable, tenantId: string, userId: string, now: Date): Promise<ConnectorWork[]> {
  const { user, policy: policyVersion, grants, accounts, onDelete } = await reconcileInputs(db, tenantId, userId);
  const policy = policyVersion?.document as PolicyDocument | undefined;
  const evaluation: Evaluation =
    user && policy ? evaluate(userFacts(user, policy.intake), user.groups, policy, now) : user?.active === false ? { status: 'inactive', desired: [] } : { status: 'eligible', desired: [] };
  const plan = planChanges(evaluation, grants, now);
  const work = new Map<string, ConnectorWork>();
  // At most one job per connector and lane; the account lock keeps the two lanes of one account apart.
  const addWork = (connector: string, lane: ConnectorWork['lane']) => work.set(`${connector}\u0000${lane}`, { tenantId, userId, connector, lane });

  // An account is wanted while the user holds (or is getting) something through its connector. Written
  // before the grants: every transaction takes account rows before the audit chain head.
  const revoked = new Set(plan.revoke.map((r) => r.grant.id));
  const holding = new Set([
    ...grants.filter((g) => !revoked.has(g.id) && ['provisioning', 'active', 'failed'].includes(g.state)).map((g) => g.connector),
    ...plan.grant.filter((g) => g.start === 'provisioning').map((g) => g.desired.connector),
  ]);
  for (const account of accounts) {
    if (account.state === 'removed') continue;
    const desired: AccountState = holding.has(account.connector) && user?.active ? 'active' : !user && onDelete.get(account.connector) === 'remove' ? 'removed' : 'disabled';
    if (await setAccountDesired(db, tenantId, account.connector, userId, desired)) {
      addWork(account.connector, desired === 'active' ? 'grant' : 'revoke');
    }
  }
  for (const { desired, start } of plan.grant) {
    const known = onDelete.has(desired.connector);
    const state: GrantState = !known ? 'failed' : start;
    await insertGrant(
      db,
      tenantId,
      {
        userId,
        userName: user!.userName,
        connector: desired.connector,
        entitlement: desired.entitlement,
        state,
        reasons: desired.reasons.map((r) => ({ rule: r.rule, ruleName: r.ruleName ?? null, package: r.package, group: r.group ?? null })),
        policyVersion: policyVersion?.version ?? null,
        endsAt: desired.endsAt,
        ...(known ? {} : { lastError: `invalid_config: the tenant has no connector "${desired.connector}"` }),
      },
      grantEvent('grant.requested', desired.connector, desired.entitlement, { state, packages: [...new Set(desired.reasons.map((r) => r.package))] }),
    );
    if (state === 'provisioning') addWork(desired.connector, 'grant');
  }

  for (const { grant, reason: planned } of plan.revoke) {
    const reason: RevokeReason = user ? planned : 'deleted';
    // A connector job may move the grant on (provisioning → active) after it was read here, so each move
    // names every state it may start from rather than the one that was read: a revocation is never lost
    // to that race.
    const ended = NEVER_PROVISIONED.includes(grant.state) && (await moveGrant(db, tenantId, grant.id, { from: NEVER_PROVISIONED, to: 'revoked', revokeReason: reason }, revokeEvent('grant.revoked', grant, reason)));
    if (!ended && (await moveGrant(db, tenantId, grant.id, { from: DOWNSTREAM_LIVE, to: 'revoking', revokeReason: reason }, revokeEvent('grant.revoking', grant, reason)))) {
      addWork(grant.connector, 'revoke');
    }
  }

  for (const { grant, endsAt } of plan.extend) {
    await extendGrant(db, tenantId, grant.id, endsAt, grantEvent('grant.extended', grant.connector, grant.entitlement, { endsAt: endsAt.toISOString() }, grant.id));
  }

  return [...work.values()];
}

function grantEvent(action: string, connector: string, entitlement: string, detail: Record<string, string | string[]>, id: string | null = null): AuditEventInput {
  return { actor: SYSTEM_ACTOR, action, resourceType: 'grant', resourceId: id, detail: { connector, entitlement, ...detail } };
}

function revokeEvent(action: string, grant: CurrentGrant, reason: RevokeReason): AuditEventInput {
  return grantEvent(action, grant.connector, grant.entitlement, { reason }, grant.id);
}
