import { recordAuditEvent } from '../audit/record-audit-event.js';
import { validDurationMs } from '../policy/iso-duration.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import type { UserFacts } from '../policy/user-facts.js';
import { SYSTEM_ACTOR } from '../provisioning/worker-tx.js';
import { saveSponsorship, sponsorshipInputs } from '../store/sponsorships-store.js';
import type { Tx } from '../store/transaction.js';
import { decideSponsorship, type SponsorshipStatus } from './sponsorship.js';

/**
 * Decides and records where the user stands with their sponsor (see decideSponsorship); a lapse and a
 * restoration are audited. Only for policies with a `sponsorship` section.
 */
export async function sponsorshipOf(db: Tx, tenantId: string, user: { id: string; userName: string }, facts: UserFacts, policy: PolicyDocument, now: Date): Promise<SponsorshipStatus> {
  const sponsor = facts.intake.sponsor;
  const { sponsorActive, previous } = await sponsorshipInputs(db, tenantId, user.id, sponsor ?? null);
  const grace = policy.sponsorship?.grace;
  const graceMs = grace ? validDurationMs(grace) : 0;
  const decision = decideSponsorship({ userName: user.userName, sponsor, sponsorActive, previous, graceMs, now });
  const n = decision.next;
  if (!previous || previous.sponsor !== n.sponsor || previous.lapsedSince?.getTime() !== n.lapsedSince?.getTime() || previous.ended !== n.ended) {
    await saveSponsorship(db, tenantId, user.id, n);
  }
  if (decision.change) {
    recordAuditEvent(db, tenantId, {
      actor: SYSTEM_ACTOR,
      action: decision.change === 'lapsed' ? 'user.sponsor_lapsed' : 'user.sponsor_restored',
      resourceType: 'user',
      resourceId: user.id,
      detail: decision.change === 'lapsed' ? { revokeAt: n.revokeAt!.toISOString() } : {},
    });
  }
  return decision.status;
}

/** The sponsor is then checked as a sponsorship (with its grace), not as a missing intake attribute. */
export function withoutSponsorIntake(policy: PolicyDocument): PolicyDocument {
  return { ...policy, intake: { ...policy.intake, required: policy.intake.required.filter((k) => k !== 'sponsor') } };
}
