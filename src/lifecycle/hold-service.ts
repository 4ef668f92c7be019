import type pg from 'pg';
import { DomainError } from '../errors/domain-error.js';
import { decideHold, findHold, type HoldRecord, listHolds } from '../store/holds-store.js';
import { markUsers, type OnUsersMarked } from '../store/reconcile-outbox.js';
import { inTenantTx, isUuid } from '../store/transaction.js';
import { inTenantBySlug, tenantSlugs, tenantIdOf } from '../tenants/tenant-service.js';

const LIST_LIMIT = 1000;

export interface ListedHold extends HoldRecord {
  tenant: string;
}

/**
 * Deprovisions the brake held, and an operator's decision on them: release (the access is revoked now,
 * through the pipeline) or reject (it stays; the IdP has to be put right). Either way the user is
 * reconciled, and the decision is recorded with who and why.
 */
export class HoldService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async list(slug: string | undefined, opts: { pendingOnly: boolean }): Promise<ListedHold[]> {
    const tenants = await tenantSlugs(this.pool, slug);
    const all: ListedHold[] = [];
    for (const s of tenants) {
      const rows = await inTenantBySlug(this.pool, s, (db, tenant) => listHolds(db, tenant.id, { pendingOnly: opts.pendingOnly, limit: LIST_LIMIT }), { readOnly: true });
      all.push(...rows.map((r) => ({ ...r, tenant: s })));
    }
    return all;
  }

  /** Decides one hold by id, or every pending hold of a tenant (`slug` with `id` undefined). */
  async decide(target: { id: string; within?: string | undefined } | { slug: string }, to: 'released' | 'rejected', decision: { by: string; reason?: string | undefined }): Promise<HoldRecord[]> {
    const by = decision.by.trim();
    if (!by) throw new DomainError('invalid_input', 'name who decides (--by)');
    const reason = decision.reason?.trim() || null;
    if (to === 'rejected' && !reason) throw new DomainError('invalid_input', 'a rejection needs a reason (--reason)');
    const { tenantId, ids } = await this.targets(target);
    const decided = await inTenantTx(this.pool, tenantId, async (db) => {
      const done: HoldRecord[] = [];
      for (const id of ids) {
        const hold = await findHold(db, tenantId, id);
        if (!hold) throw new DomainError('not_found', `no hold ${id}`);
        if (hold.state !== 'pending') {
          if ('id' in target) throw new DomainError('conflict', `hold ${id} is ${hold.state}, not pending`);
          continue;
        }
        await decideHold(db, tenantId, id, to, { by, reason }, {
          actor: `operator:${by}`,
          action: to === 'released' ? 'hold.released' : 'hold.rejected',
          resourceType: 'hold',
          resourceId: id,
          detail: { user: hold.userId, ...(reason ? { reason } : {}) },
        });
        await markUsers(db, tenantId, [hold.userId], `hold.${to}`);
        done.push({ ...hold, state: to, decidedBy: by, decidedAt: new Date(), decisionReason: reason });
      }
      return done;
    });
    if (decided.length) this.onMarked(tenantId, decided.map((h) => h.userId), { mayRevoke: to === 'released' });
    return decided;
  }

  private async targets(target: { id: string; within?: string | undefined } | { slug: string }): Promise<{ tenantId: string; ids: string[] }> {
    if ('slug' in target) {
      return inTenantBySlug(this.pool, target.slug, async (db, tenant) => ({ tenantId: tenant.id, ids: (await listHolds(db, tenant.id, { pendingOnly: true, limit: 100_000 })).map((h) => h.id) }), { readOnly: true });
    }
    if (!isUuid(target.id)) throw new DomainError('invalid_input', `"${target.id.slice(0, 64)}" is not a hold id`);
    const { rows } = await this.pool.query<{ tenant_id: string | null }>('SELECT lanyard_hold_tenant($1) AS tenant_id', [target.id]);
    const tenantId = rows[0]?.tenant_id;
    if (!tenantId || (target.within !== undefined && (await tenantIdOf(this.pool, target.within)) !== tenantId)) {
      throw new DomainError('not_found', `no hold ${target.id}${target.within !== undefined ? ` in tenant "${target.within}"` : ''}`);
    }
    return { tenantId, ids: [target.id] };
  }
}
