import type pg from 'pg';
import type { AccountRef, Connector, DesiredAccount, OpContext, Outcome } from '../../connectors/kit/contract.js';
import { ConnectorError } from '../../connectors/kit/connector-error.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import { type AccountRecord, findAccount, recordAccountEnsured, recordAccountError, recordAccountState, setAccountDesired } from '../store/accounts-store.js';
import { grantState, grantsInState, heldEntitlements, moveGrant, type PendingGrant } from '../store/grants-store.js';
import { inTenantTx } from '../store/transaction.js';
import { type ConnectorWorkInputs, connectorWorkInputs } from '../store/connector-work-inputs.js';
import type { ConnectorInstances } from './connector-instances.js';
import type { ConnectorWork } from './jobs.js';
import { SYSTEM_ACTOR, WORKER_TX } from './worker-tx.js';
import type { Tx } from '../store/transaction.js';

export interface ConnectorWorkDeps {
  pool: pg.Pool;
  connectors: ConnectorInstances;
  /**
   * Runs before every downstream call. The workers use it to stop a running job at its next call once
   * its connector has been paused by a 429 elsewhere, rather than let it carry on calling.
   */
  beforeCall?: () => Promise<void>;
}

/**
 * Carries out the downstream work recorded for one user on one connector, on one lane:
 * - `revoke`: every revoking grant is revoked, then the account is disabled or removed if that is wanted;
 * - `grant`: the account is ensured, then every provisioning grant is granted.
 *
 * Each downstream call states an end state and may be repeated, and each outcome is recorded with a
 * compare-and-set on the grant's state, so a job that runs twice (after a crash) changes nothing twice.
 * Failures are thrown as ConnectorErrors for the worker to retry, wait out or park.
 */
export async function runConnectorWork(deps: ConnectorWorkDeps, work: ConnectorWork): Promise<void> {
  const live = await deps.connectors.get(work.tenantId, work.connector);
  if (!live) throw new ConnectorError('invalid_config', `the tenant has no connector "${work.connector}"`);
  const ctx = new WorkContext(deps.pool, work, live.connector, deps.beforeCall);
  if (work.lane === 'revoke') await ctx.revoke();
  else await ctx.grant();
}

/** Marks the work of one lane as failed, with the error operators will see, so it waits for `jobs retry`. */
export async function parkConnectorWork(pool: pg.Pool, work: ConnectorWork, error: string): Promise<number> {
  return inTenantTx(pool, work.tenantId, async (db) => {
    const state = work.lane === 'revoke' ? 'revoking' : 'provisioning';
    const pending = await grantsInState(db, work.tenantId, work.userId, work.connector, [state]);
    let parked = 0;
    for (const grant of pending) {
      const moved = await moveGrant(db, work.tenantId, grant.id, { from: [state], to: 'failed', lastError: error }, event('grant.failed', grant, work.connector, { error }));
      if (moved) parked += 1;
    }
    const account = await findAccount(db, work.tenantId, work.connector, work.userId);
    if (account && account.state !== account.desired) {
      await recordAccountError(db, work.tenantId, work.connector, work.userId, error);
      parked += 1;
    }
    return parked;
  }, WORKER_TX);
}

class WorkContext {
  constructor(
    private readonly pool: pg.Pool,
    private readonly work: ConnectorWork,
    private readonly connector: Connector,
    private readonly beforeCall?: () => Promise<void>,
  ) {}

  async revoke(): Promise<void> {
    const { grants, account, held } = await this.read('revoking');
    const ref = this.refOf(account, grants[0]?.userName);
    const done: PendingGrant[] = [];
    try {
      for (const grant of grants) {
        // Without an account downstream there is nothing to take away; and an entitlement a newer grant
        // holds (the user left and came back) stays: downstream it is one and the same permission.
        if (ref && !held.has(grant.entitlement)) await this.connector.entitlements.revoke(ref, grant.entitlement, await this.op(`revoke-${grant.id}`));
        done.push(grant);
      }
    } finally {
      // What was done is recorded even when a later call failed, in one transaction.
      if (done.length) {
        await this.tx(async (db) => {
          for (const grant of done) {
            await moveGrant(db, this.work.tenantId, grant.id, { from: ['revoking'], to: 'revoked', lastError: null }, event('grant.revoked', grant, this.work.connector, { reason: grant.revokeReason ?? 'policy' }));
          }
        });
      }
    }
    if (account && account.desired !== 'active' && account.state !== account.desired) await this.retireAccount(account);
  }

  async grant(): Promise<void> {
    const inputs = await this.read('provisioning');
    const { grants, account } = inputs;
    const user = desiredAccount(this.work.userId, inputs.user);
    const accountWanted = account?.desired === 'active' && account.state !== 'active';
    if ((grants.length === 0 && !accountWanted) || !user) return;

    // Create or re-enable the account unless it is known to be there and wanted.
    let ref: AccountRef = { id: account?.ref ?? user.userName };
    let ensured: Outcome<AccountRef> | null = null;
    if (this.connector.accounts && !(account?.state === 'active' && account.desired === 'active')) {
      ensured = await this.connector.accounts.ensure(user, await this.op(`ensure-${this.work.userId}`));
      ref = ensured.value;
    }

    const done: PendingGrant[] = [];
    const overtaken: PendingGrant[] = [];
    let recorded: AccountRecord | null = null;
    try {
      for (const grant of grants) {
        await this.connector.entitlements.grant(ref, grant.entitlement, await this.op(`grant-${grant.id}`));
        done.push(grant);
      }
    } finally {
      // What was done is recorded even when a later call failed, in one transaction.
      await this.tx(async (db) => {
        // Read before the first audited write takes the tenant's chain head, to keep that hold short.
        const holds = ensured ? (await heldEntitlements(db, this.work.tenantId, this.work.userId, this.work.connector)).size > 0 : true;
        if (ensured) {
          const created = !account;
          const current = await recordAccountEnsured(
            db,
            this.work.tenantId,
            { connector: this.work.connector, userId: this.work.userId, userName: user.userName, ref: ref.id },
            ensured.result === 'changed' || created ? this.accountEvent(created ? 'account.created' : 'account.enabled') : null,
          );
          // The account just ensured is wanted exactly while the user holds something through it. A
          // reconcile may have revoked everything meanwhile without knowing of the account, or asked for it
          // to go at a moment when nothing was held yet: the grants decide, as they stand now.
          const want = holds ? 'active' : current.desired === 'removed' ? 'removed' : 'disabled';
          if (want !== current.desired) await setAccountDesired(db, this.work.tenantId, this.work.connector, this.work.userId, want);
          recorded = { ...current, desired: want };
        }
        for (const grant of done) {
          const activated = await moveGrant(db, this.work.tenantId, grant.id, { from: ['provisioning'], to: 'active', started: true, lastError: null }, event('grant.activated', grant, this.work.connector));
          if (activated) continue;
          const now = await grantState(db, this.work.tenantId, grant.id);
          if (now === 'revoking' || now === 'revoked') overtaken.push(grant);
        }
        if (overtaken.length) {
          // Read again, after the moves: what other grants hold now, not what this one held before.
          const held = await heldEntitlements(db, this.work.tenantId, this.work.userId, this.work.connector);
          overtaken.splice(0, overtaken.length, ...overtaken.filter((g) => !held.has(g.entitlement)));
        }
      });
    }
    // Revoked while our call was in flight. The revocation job may already have looked downstream (before
    // our grant landed, or before this job recorded the account), so take the entitlement away here too;
    // revoking twice is harmless, leaving it granted is not.
    for (const grant of overtaken) await this.connector.entitlements.revoke(ref, grant.entitlement, await this.op(`revoke-${grant.id}`));
    // A reconcile that wanted the account gone while it was being ensured wins: put it back the way it wants.
    const after = recorded as AccountRecord | null;
    if (after && after.desired !== 'active') await this.retireAccount(after);
  }

  private async retireAccount(account: AccountRecord): Promise<void> {
    const ref = { id: account.ref };
    const accounts = this.connector.accounts;
    if (!accounts) return;
    if (account.desired === 'removed' && accounts.remove) {
      await accounts.remove(ref, await this.op(`remove-${this.work.userId}`));
      await this.tx((db) => recordAccountState(db, this.work.tenantId, this.work.connector, this.work.userId, 'removed', this.accountEvent('account.removed')));
      return;
    }
    await accounts.disable(ref, await this.op(`disable-${this.work.userId}`));
    // A connector that cannot delete keeps the account disabled, and the record says why it was not removed.
    const fallback = account.desired === 'removed' ? { desired: 'disabled' as const } : {};
    await this.tx((db) =>
      recordAccountState(db, this.work.tenantId, this.work.connector, this.work.userId, 'disabled', this.accountEvent('account.disabled', account.desired === 'removed' ? { removeUnsupported: true } : {}), fallback),
    );
  }

  private refOf(account: AccountRecord | null, userName: string | undefined): AccountRef | null {
    if (!this.connector.accounts) return userName ? { id: userName } : account ? { id: account.userName } : null;
    return account && account.state !== 'removed' ? { id: account.ref } : null;
  }

  /** The context of one downstream call; first waits out, by failing fast, a pause set meanwhile (a 429). */
  private async op(key: string): Promise<OpContext> {
    await this.beforeCall?.();
    return { idempotencyKey: key };
  }

  private accountEvent(action: string, detail: Record<string, boolean> = {}): AuditEventInput {
    return { actor: SYSTEM_ACTOR, action, resourceType: 'account', resourceId: this.work.userId, detail: { connector: this.work.connector, ...detail } };
  }

  /** Everything the lane needs before calling the downstream, in one statement and one round trip. */
  private read(state: 'provisioning' | 'revoking'): Promise<ConnectorWorkInputs> {
    const { tenantId, userId, connector } = this.work;
    return connectorWorkInputs(this.pool, tenantId, userId, connector, state);
  }

  private tx<T>(work: (db: Tx) => Promise<T>): Promise<T> {
    return inTenantTx(this.pool, this.work.tenantId, work, WORKER_TX);
  }
}

function event(action: string, grant: PendingGrant, connector: string, detail: Record<string, string> = {}): AuditEventInput {
  return { actor: SYSTEM_ACTOR, action, resourceType: 'grant', resourceId: grant.id, detail: { connector, entitlement: grant.entitlement, ...detail } };
}

/** The account a user should have downstream, from the stored SCIM user; null once the user is deleted or deactivated. */
function desiredAccount(userId: string, user: ConnectorWorkInputs['user']): DesiredAccount | null {
  if (!user || !user.active) return null;
  const doc = user.doc as { displayName?: unknown; emails?: { value?: unknown; primary?: unknown }[] };
  const emails = Array.isArray(doc.emails) ? doc.emails : [];
  const email = (emails.find((e) => e?.primary === true) ?? emails[0])?.value;
  return {
    userId,
    userName: user.userName,
    ...(typeof doc.displayName === 'string' ? { displayName: doc.displayName } : {}),
    ...(typeof email === 'string' ? { email } : {}),
  };
}
