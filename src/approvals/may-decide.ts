import type { Approvers } from '../store/approvals-store.js';

export type DecisionCheck = { ok: true; as: 'sponsor' | 'tenant' | 'msp' } | { ok: false; code: 'forbidden' | 'conflict'; message: string };

const norm = (name: string) => name.trim().toLowerCase();

/**
 * Whether `approver` may decide a request. Pure. The user whose access it is can never decide it, under
 * any of the names they go by, even when listed as an approver; anyone else must be on one of the request's
 * routes (its sponsor, the tenant's approvers, the MSP's security list) as they stood when it was made.
 */
export function mayDecide(request: { state: string; deadline: Date; approvers: Approvers; subjectNames: string[] }, approver: string, now: Date): DecisionCheck {
  if (request.state !== 'pending') return { ok: false, code: 'conflict', message: `the request is ${request.state}, not pending` };
  if (request.deadline <= now) return { ok: false, code: 'conflict', message: `the request's deadline passed at ${request.deadline.toISOString()}` };
  const by = norm(approver);
  if (request.subjectNames.map(norm).includes(by)) return { ok: false, code: 'forbidden', message: 'nobody may decide a request for their own access' };
  const { routes, sponsor, tenant, msp } = request.approvers;
  if (routes.includes('sponsor') && sponsor !== null && norm(sponsor) === by) return { ok: true, as: 'sponsor' };
  if (routes.includes('tenant') && tenant.map(norm).includes(by)) return { ok: true, as: 'tenant' };
  if (routes.includes('msp') && msp.map(norm).includes(by)) return { ok: true, as: 'msp' };
  return { ok: false, code: 'forbidden', message: `"${approver}" is not an approver of this request (${describeApprovers(request.approvers)})` };
}

export function describeApprovers(approvers: Approvers): string {
  const parts: string[] = [];
  if (approvers.routes.includes('sponsor')) parts.push(`sponsor: ${approvers.sponsor ?? 'none'}`);
  if (approvers.routes.includes('tenant')) parts.push(`tenant approvers: ${approvers.tenant.join(', ') || 'none'}`);
  if (approvers.routes.includes('msp')) parts.push(`MSP security: ${approvers.msp.join(', ') || 'none'}`);
  return parts.join('; ');
}
