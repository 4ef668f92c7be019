import type { PolicyDocument } from '../policy/policy-schema.js';
import type { Approvers } from '../store/approvals-store.js';

/** Who may decide a request for `pkg`, resolved now from the policy and the user's sponsor. */
export function approversFor(policy: PolicyDocument, pkg: string, sponsor: string | null): Approvers {
  const routes = policy.packages[pkg]?.approvers ?? policy.approvals.approvers;
  return {
    routes: [...routes],
    sponsor: routes.includes('sponsor') ? sponsor : null,
    tenant: routes.includes('tenant') ? policy.approvals.tenantApprovers : [],
    msp: routes.includes('msp') ? policy.approvals.mspApprovers : [],
  };
}

/** Every name the user goes by: none of them may approve the user's own access. */
export function subjectNames(user: { userName: string; doc: Record<string, unknown> }): string[] {
  const emails = Array.isArray(user.doc['emails']) ? (user.doc['emails'] as { value?: unknown }[]) : [];
  const names = [user.userName, ...emails.map((e) => e?.value).filter((v): v is string => typeof v === 'string')];
  return [...new Set(names.map((n) => n.trim().toLowerCase()))];
}
