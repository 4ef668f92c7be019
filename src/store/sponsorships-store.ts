import type { SponsorshipRecord } from '../lifecycle/sponsorship.js';
import type { Queryable } from './pool.js';

/** What a user's sponsorship is decided on: the sponsor's standing, and what was recorded before. */
export async function sponsorshipInputs(db: Queryable, tenantId: string, userId: string, sponsor: string | null): Promise<{ sponsorActive: boolean | null; previous: SponsorshipRecord | null }> {
  const { rows } = await db.query<{ sponsor_active: boolean | null; previous: { sponsor: string | null; lapsed_since: string | null; revoke_at: string | null; ended: boolean } | null }>({
    name: 'sponsorships.inputs',
    text: `SELECT (SELECT u.active FROM users u WHERE u.tenant_id = $1 AND u.user_name_folded = lower($3)) AS sponsor_active,
                  (SELECT json_build_object('sponsor', s.sponsor, 'lapsed_since', s.lapsed_since, 'revoke_at', s.revoke_at, 'ended', s.ended)
                     FROM sponsorships s WHERE s.tenant_id = $1 AND s.user_id = $2) AS previous`,
    values: [tenantId, userId, sponsor],
  });
  const row = rows[0]!;
  const p = row.previous;
  return {
    sponsorActive: row.sponsor_active,
    previous: p ? { sponsor: p.sponsor, lapsedSince: p.lapsed_since ? new Date(p.lapsed_since) : null, revokeAt: p.revoke_at ? new Date(p.revoke_at) : null, ended: p.ended } : null,
  };
}

export async function saveSponsorship(db: Queryable, tenantId: string, userId: string, record: SponsorshipRecord): Promise<void> {
  await db.query({
    name: 'sponsorships.save',
    text: `INSERT INTO sponsorships (tenant_id, user_id, sponsor, lapsed_since, revoke_at, ended) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, user_id) DO UPDATE
             SET sponsor = EXCLUDED.sponsor, lapsed_since = EXCLUDED.lapsed_since, revoke_at = EXCLUDED.revoke_at, ended = EXCLUDED.ended, updated_at = now()`,
    values: [tenantId, userId, record.sponsor, record.lapsedSince, record.revokeAt, record.ended],
  });
}

/**
 * Marks for reconciliation the users sponsored by any of `userNames` (a sponsor deactivated, deleted,
 * renamed or back), in the caller's transaction, in id order; answers who was marked.
 */
export async function markSponsoredUsers(db: Queryable, tenantId: string, userNames: readonly string[], cause: string): Promise<string[]> {
  if (userNames.length === 0) return [];
  const { rows } = await db.query<{ user_id: string }>({
    name: 'sponsorships.mark',
    text: `INSERT INTO reconcile_outbox (tenant_id, user_id, cause)
           SELECT tenant_id, user_id, $3 FROM sponsorships WHERE tenant_id = $1 AND sponsor = ANY($2::text[]) ORDER BY user_id
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET marked_at = clock_timestamp(), cause = EXCLUDED.cause
           RETURNING user_id`,
    values: [tenantId, userNames.map((n) => n.toLowerCase()), cause],
  });
  return rows.map((r) => r.user_id);
}
