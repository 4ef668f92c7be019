import type pg from 'pg';
import { DomainError } from '../errors/domain-error.js';
import { addValidDuration } from '../policy/iso-duration.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { type ExceptionGrant, insertException, listExceptions } from '../store/exceptions-store.js';
import { currentPolicy } from '../store/policy-store.js';
import { markUsers, type OnUsersMarked } from '../store/reconcile-outbox.js';
import { findUserByUserName } from '../store/users-store.js';
import { inTenantBySlug, tenantSlugs } from '../tenants/tenant-service.js';

const LIST_LIMIT = 1000;

export interface ListedException extends ExceptionGrant {
  tenant: string;
  active: boolean;
}

/**
 * Emergency access: the narrow way around rules and approvals. Only packages the policy lists under
 * `emergency`, for at most its `maxDuration` (hours), to an active user, by a named operator with a reason;
 * every exception stays listed for review. The access itself is granted, and ends, through the pipeline.
 */
export class ExceptionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async grant(slug: string, input: { userName: string; package: string; by: string; reason: string; durationMs?: number | undefined }, now = new Date()): Promise<ExceptionGrant> {
    const by = input.by.trim();
    const reason = input.reason.trim();
    if (!by) throw new DomainError('invalid_input', 'name who grants the exception (--by)');
    if (!reason) throw new DomainError('invalid_input', 'an exception needs a reason (--reason)');
    const { tenantId, exception } = await inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const policy = (await currentPolicy(db, tenant.id))?.document as PolicyDocument | undefined;
      const emergency = policy?.emergency;
      if (!emergency) throw new DomainError('conflict', `the policy of tenant "${slug}" allows no emergency access (no emergency section)`);
      if (!emergency.packages.includes(input.package)) {
        throw new DomainError('forbidden', `package "${input.package}" is not one the policy allows for emergency access (${emergency.packages.join(', ')})`);
      }
      const longest = addValidDuration(now, emergency.maxDuration);
      const endsAt = input.durationMs === undefined ? longest : new Date(now.getTime() + input.durationMs);
      if (endsAt > longest) throw new DomainError('invalid_input', `emergency access lasts at most ${emergency.maxDuration}`);
      const user = await findUserByUserName(db, tenant.id, input.userName);
      if (!user) throw new DomainError('not_found', `tenant "${slug}" has no user "${input.userName}"`);
      if (!user.active) throw new DomainError('conflict', `user "${user.userName}" is deactivated`);
      const exception = await insertException(
        db,
        tenant.id,
        { userId: user.id, userName: user.userName, package: input.package, grantedBy: by, reason, startsAt: now, endsAt },
        { actor: `operator:${by}`, action: 'exception.granted', resourceType: 'exception', detail: { user: user.id, package: input.package, endsAt: endsAt.toISOString() } },
      );
      await markUsers(db, tenant.id, [user.id], 'exception.granted');
      return { tenantId: tenant.id, exception };
    });
    this.onMarked(tenantId, [exception.userId], { mayRevoke: false });
    return exception;
  }

  async list(slug: string | undefined, opts: { activeOnly: boolean }, now = new Date()): Promise<ListedException[]> {
    const tenants = await tenantSlugs(this.pool, slug);
    const all: ListedException[] = [];
    for (const s of tenants) {
      const rows = await inTenantBySlug(this.pool, s, (db, tenant) => listExceptions(db, tenant.id, { ...(opts.activeOnly ? { activeAt: now } : {}), limit: LIST_LIMIT }), { readOnly: true });
      all.push(...rows.map((r) => ({ ...r, tenant: s, active: r.endsAt > now })));
    }
    return all;
  }
}
