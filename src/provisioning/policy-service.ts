import type pg from 'pg';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { DomainError } from '../errors/domain-error.js';
import { type Evaluation, evaluate } from '../policy/evaluate.js';
import { loadPolicy } from '../policy/load-policy.js';
import { planChanges } from '../policy/plan.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { userFacts } from '../policy/user-facts.js';
import { grantsOfUsers } from '../store/grants-store.js';
import { currentPolicy, insertPolicyVersion, type PolicyVersion } from '../store/policy-store.js';
import { markAllUsers, markedUsers } from '../store/reconcile-outbox.js';
import { userBatch } from '../store/user-batches.js';
import { inTenantBySlug } from '../tenants/tenant-service.js';

const BATCH = 1000;

export interface UserPlan {
  userName: string;
  status: Evaluation['status'];
  missing?: string[];
  grant: { connector: string; entitlement: string; packages: string[]; approval: boolean }[];
  revoke: { connector: string; entitlement: string; packages: string[]; reason: string }[];
}

export interface PolicyPlan {
  users: number;
  byPackage: Record<string, { grant: number; revoke: number }>;
  quarantined: number;
  /** Users whose access would change, or who are quarantined. */
  changes: UserPlan[];
}

/** Applying, showing and dry-running a tenant's access policy. */
export class PolicyService {
  constructor(
    private readonly pool: pg.Pool,
    /** Queues the reconcile of marked users once the apply has committed. */
    private readonly onMarked: (tenantId: string, userIds: readonly string[]) => Promise<void> = async () => {},
  ) {}

  async apply(slug: string, source: string, actor: string): Promise<PolicyVersion> {
    const policy = parseOrThrow(source);
    // The tenant row lock orders concurrent applies, so version numbers never collide.
    const { version, tenantId } = await inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const version = await insertPolicyVersion(db, tenant.id, { source, document: policy, appliedBy: actor });
      await markAllUsers(db, tenant.id, 'policy.applied');
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'policy.applied',
        resourceType: 'policy',
        resourceId: String(version.version),
        attributes: ['packages', 'rules', 'intake'],
        detail: { version: version.version, packages: Object.keys(policy.packages), rules: policy.rules.length },
      });
      return { version, tenantId: tenant.id };
    }, { lock: true });
    const marked = await inTenantBySlug(this.pool, slug, (db, tenant) => markedUsers(db, tenant.id), { readOnly: true });
    await this.onMarked(tenantId, marked);
    return version;
  }

  async show(slug: string): Promise<PolicyVersion | null> {
    return inTenantBySlug(this.pool, slug, (db, tenant) => currentPolicy(db, tenant.id), { readOnly: true });
  }

  /**
   * What applying `source` would grant and revoke for every user of the tenant, now. Reads only: nothing
   * is written, queued or sent anywhere.
   */
  async plan(slug: string, source: string, now = new Date()): Promise<PolicyPlan> {
    const policy = parseOrThrow(source);
    return inTenantBySlug(
      this.pool,
      slug,
      async (db, tenant) => {
        const result: PolicyPlan = { users: 0, byPackage: {}, quarantined: 0, changes: [] };
        const count = (pkg: string, kind: 'grant' | 'revoke') => {
          result.byPackage[pkg] ??= { grant: 0, revoke: 0 };
          result.byPackage[pkg][kind] += 1;
        };
        for (let after = 0; ; ) {
          const users = await userBatch(db, tenant.id, after, BATCH);
          if (users.length === 0) break;
          after = users[users.length - 1]!.seq;
          const grants = await grantsOfUsers(db, tenant.id, users.map((u) => u.id));
          for (const user of users) {
            result.users += 1;
            const evaluation = evaluate(userFacts(user, policy.intake), user.groups, policy, now, { contractEndsAt: tenant.contractEndsAt });
            const plan = planChanges(evaluation, grants.get(user.id) ?? [], now);
            const entry: UserPlan = {
              userName: user.userName,
              status: evaluation.status,
              ...(evaluation.status === 'quarantined' ? { missing: evaluation.missing } : {}),
              // Approvals already given are not read here: a package that needs one is shown as waiting for it.
              grant: [...plan.grant.map((g) => ({ desired: g.desired, approval: false })), ...plan.awaitingApproval.map((desired) => ({ desired, approval: true }))].map(({ desired, approval }) => {
                const packages = [...new Set(desired.reasons.map((r) => r.package))];
                packages.forEach((p) => count(p, 'grant'));
                return { connector: desired.connector, entitlement: desired.entitlement, packages, approval };
              }),
              revoke: plan.revoke.map((r) => {
                const packages = r.grant.packages ?? [];
                packages.forEach((p) => count(p, 'revoke'));
                return { connector: r.grant.connector, entitlement: r.grant.entitlement, packages, reason: r.reason };
              }),
            };
            if (evaluation.status === 'quarantined') result.quarantined += 1;
            if (entry.grant.length || entry.revoke.length || evaluation.status === 'quarantined') result.changes.push(entry);
          }
        }
        return result;
      },
      { readOnly: true },
    );
  }
}

function parseOrThrow(source: string): PolicyDocument {
  const result = loadPolicy(source);
  if (result.ok) return result.policy;
  throw new DomainError('invalid_input', `the policy is not valid:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
}
