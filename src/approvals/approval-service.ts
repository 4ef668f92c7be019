import type pg from 'pg';
import { DomainError } from '../errors/domain-error.js';
import { addValidDuration } from '../policy/iso-duration.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { type ApprovalRecord, findApproval, listApprovals, moveApproval } from '../store/approvals-store.js';
import { currentPolicy } from '../store/policy-store.js';
import { markUsers, type OnUsersMarked } from '../store/reconcile-outbox.js';
import { inTenantTx, isUuid } from '../store/transaction.js';
import { inTenantBySlug, tenantIdOf, tenantSlugs } from '../tenants/tenant-service.js';
import { mayDecide } from './may-decide.js';

const LIST_LIMIT = 1000;

export interface Decision {
  by: string;
  reason?: string | undefined;
  /** Approve only: end the access earlier than the package's maximum duration allows. */
  until?: Date | undefined;
  /** Only a request of this tenant (slug): another tenant's is answered as not found, as the admin API scopes it. */
  within?: string | undefined;
}

export interface ListedApproval extends ApprovalRecord {
  tenant: string;
}

/**
 * Approval requests: listing and deciding. A decision marks the user for reconciliation, so what it
 * allows (or refuses) reaches the downstream through the same pipeline as every other change.
 */
export class ApprovalService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async list(slug: string | undefined, opts: { pendingOnly: boolean }): Promise<ListedApproval[]> {
    const tenants = await tenantSlugs(this.pool, slug);
    const all: ListedApproval[] = [];
    for (const s of tenants) {
      const rows = await inTenantBySlug(this.pool, s, (db, tenant) => listApprovals(db, tenant.id, { pendingOnly: opts.pendingOnly, limit: LIST_LIMIT }), { readOnly: true });
      all.push(...rows.map((r) => ({ ...r, tenant: s })));
    }
    return all;
  }

  async approve(id: string, decision: Decision, now = new Date()): Promise<ApprovalRecord> {
    return this.decide(id, decision, 'approved', now);
  }

  async deny(id: string, decision: Decision, now = new Date()): Promise<ApprovalRecord> {
    if (!decision.reason?.trim()) throw new DomainError('invalid_input', 'a denial needs a reason (--reason)');
    return this.decide(id, decision, 'denied', now);
  }

  private async decide(id: string, decision: Decision, to: 'approved' | 'denied', now: Date): Promise<ApprovalRecord> {
    if (!isUuid(id)) throw new DomainError('invalid_input', `"${id.slice(0, 64)}" is not an approval request id`);
    const by = decision.by.trim();
    if (!by) throw new DomainError('invalid_input', 'name the approver (--by)');
    const { rows } = await this.pool.query<{ tenant_id: string | null }>('SELECT lanyard_approval_tenant($1) AS tenant_id', [id]);
    const tenantId = rows[0]?.tenant_id;
    if (!tenantId || (decision.within !== undefined && (await tenantIdOf(this.pool, decision.within)) !== tenantId)) {
      throw new DomainError('not_found', `no approval request ${id}${decision.within !== undefined ? ` in tenant "${decision.within}"` : ''}`);
    }
    const decided = await inTenantTx(this.pool, tenantId, async (db) => {
      const request = await findApproval(db, tenantId, id, { lock: true });
      if (!request) throw new DomainError('not_found', `no approval request ${id}`);
      const check = mayDecide(request, by, now);
      if (!check.ok) throw new DomainError(check.code, check.message);
      let endsAt: Date | null = null;
      if (to === 'approved') {
        const policy = (await currentPolicy(db, tenantId))?.document as PolicyDocument | undefined;
        const pkg = policy?.packages[request.package];
        if (!pkg) throw new DomainError('conflict', `package "${request.package}" is no longer in the tenant's policy`);
        const byPackage = addValidDuration(now, pkg.maxDuration);
        if (decision.until && decision.until <= now) throw new DomainError('invalid_input', `--until ${decision.until.toISOString()} has already passed`);
        endsAt = decision.until && decision.until < byPackage ? decision.until : byPackage;
      }
      const moved = await moveApproval(
        db,
        tenantId,
        id,
        { from: 'pending', to, decidedBy: by, decisionReason: decision.reason?.trim() || null, endsAt },
        {
          actor: `approver:${by}`,
          action: `approval.${to}`,
          resourceType: 'approval',
          resourceId: id,
          detail: { package: request.package, user: request.userId, as: check.as, ...(endsAt ? { endsAt: endsAt.toISOString() } : {}) },
        },
      );
      if (!moved) throw new DomainError('conflict', 'the request was decided or closed meanwhile');
      await markUsers(db, tenantId, [request.userId], `approval.${to}`);
      return { ...request, state: to, decidedBy: by, decidedAt: now, decisionReason: decision.reason?.trim() || null, endsAt };
    });
    this.onMarked(tenantId, [decided.userId], { mayRevoke: false });
    return decided;
  }
}
