import type pg from 'pg';
import type { AccountRef, Connector, DesiredAccount, Outcome } from '../../connectors/kit/contract.js';
import { ConnectorError } from '../../connectors/kit/connector-error.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import { type AccountRecord, findAccount, recordAccountEnsured, recordAccountError, recordAccountState } from '../store/accounts-store.js';
import { grantState, grantsInState, moveGrant, type PendingGrant } from '../store/grants-store.js';
import type { Queryable } from '../store/pool.js';
import { inTenantTx } from '../store/transaction.js';
import { findUser } from '../store/users-store.js';
import type { ConnectorInstances } from './connector-instances.js';
import type { ConnectorWork } from './jobs.js';
import { SYSTEM_ACTOR } from './reconcile.js';

export interface ConnectorWorkDeps {
  pool: pg.Pool;
  connectors: ConnectorInstances;
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
  const ctx = new WorkContext(deps.pool, work, live.connector);
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
  });
}

class WorkContext {
  constructor(
    private readonly pool: pg.Pool,
    private readonly work: ConnectorWork,
    private readonly connector: Connector,
  ) {}

  async revoke(): Promise<void> {
    const { grants, account } = await this.read((db) => this.pending(db, 'revoking'));
    const ref = this.refOf(account, grants[0]?.userName);
    const done: PendingGrant[] = [];
    try {
      for (const grant of grants) {
        // Without an account downstream there is nothing to take away.
        if (ref) await this.connector.entitlements.revoke(ref, grant.entitlement, this.op(`revoke-${grant.id}`));
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
    const { grants, account, user } = await this.read(async (db) => ({
      ...(await this.pending(db, 'provisioning')),
      user: await desiredAccount(db, this.work.tenantId, this.work.userId),
    }));
    const accountWanted = account?.desired === 'active' && account.state !== 'active';
    if ((grants.length === 0 && !accountWanted) || !user) return;

    // Create or re-enable the account unless it is known to be there and wanted.
    let ref: AccountRef = { id: account?.ref ?? user.userName };
    let ensured: Outcome<AccountRef> | null = null;
    if (this.connector.accounts && !(account?.state === 'active' && account.desired === 'active')) {
      ensured = await this.connector.accounts.ensure(user, this.op(`ensure-${this.work.userId}`));
      ref = ensured.value;
    }

    const done: PendingGrant[] = [];
    const overtaken: PendingGrant[] = [];
    let recorded: AccountRecord | null = null;
    try {
      for (const grant of grants) {
        await this.connector.entitlements.grant(ref, grant.entitlement, this.op(`grant-${grant.id}`));
        done.push(grant);
      }
    } finally {
      // What was done is recorded even when a later call failed, in one transaction.
      await this.tx(async (db) => {
        if (ensured) {
          const created = !account;
          recorded = await recordAccountEnsured(
            db,
            this.work.tenantId,
            { connector: this.work.connector, userId: this.work.userId, userName: user.userName, ref: ref.id },
            ensured.result === 'changed' || created ? this.accountEvent(created ? 'account.created' : 'account.enabled') : null,
          );
        }
        for (const grant of done) {
          const activated = await moveGrant(db, this.work.tenantId, grant.id, { from: ['provisioning'], to: 'active', started: true, lastError: null }, event('grant.activated', grant, this.work.connector));
          if (!activated && (await grantState(db, this.work.tenantId, grant.id)) === 'revoked') overtaken.push(grant);
        }
      });
    }
    // Revoked while the call was in flight, and the revocation may have run before our grant landed: take
    // the entitlement away again. A grant still revoking is left to its own job.
    for (const grant of overtaken) await this.connector.entitlements.revoke(ref, grant.entitlement, this.op(`revoke-${grant.id}`));
    // A reconcile that wanted the account gone while it was being ensured wins: put it back the way it wants.
    const after = recorded as AccountRecord | null;
    if (after && after.desired !== 'active') await this.retireAccount(after);
  }

  private async retireAccount(account: AccountRecord): Promise<void> {
    const ref = { id: account.ref };
    const accounts = this.connector.accounts;
    if (!accounts) return;
    if (account.desired === 'removed' && accounts.remove) {
      await accounts.remove(ref, this.op(`remove-${this.work.userId}`));
      await this.tx((db) => recordAccountState(db, this.work.tenantId, this.work.connector, this.work.userId, 'removed', this.accountEvent('account.removed')));
      return;
    }
    await accounts.disable(ref, this.op(`disable-${this.work.userId}`));
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

  private async pending(db: Queryable, state: 'provisioning' | 'revoking'): Promise<{ grants: PendingGrant[]; account: AccountRecord | null }> {
    const grants = await grantsInState(db, this.work.tenantId, this.work.userId, this.work.connector, [state]);
    const account = await findAccount(db, this.work.tenantId, this.work.connector, this.work.userId);
    return { grants, account };
  }

  private op(key: string) {
    return { idempotencyKey: key };
  }

  private accountEvent(action: string, detail: Record<string, boolean> = {}): AuditEventInput {
    return { actor: SYSTEM_ACTOR, action, resourceType: 'account', resourceId: this.work.userId, detail: { connector: this.work.connector, ...detail } };
  }

  private read<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    return inTenantTx(this.pool, this.work.tenantId, work, { readOnly: true });
  }

  private tx<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    return inTenantTx(this.pool, this.work.tenantId, work, { asyncCommit: true });
  }
}

function event(action: string, grant: PendingGrant, connector: string, detail: Record<string, string> = {}): AuditEventInput {
  return { actor: SYSTEM_ACTOR, action, resourceType: 'grant', resourceId: grant.id, detail: { connector, entitlement: grant.entitlement, ...detail } };
}

/** The account a user should have downstream, from the stored SCIM user; null once the user is deleted. */
async function desiredAccount(db: Queryable, tenantId: string, userId: string): Promise<DesiredAccount | null> {
  const user = await findUser(db, tenantId, userId);
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
