import type pg from 'pg';
import type { Queryable } from './pool.js';

export interface ActivityDue {
  tenantId: string;
  userId: string;
  connector: string;
  ref: string;
}

/** Active accounts on the given connectors not checked since `before`, least recently checked first. */
export async function activityDue(pool: pg.Pool, connectors: { tenantId: string; connector: string }[], before: Date, max: number): Promise<ActivityDue[]> {
  if (connectors.length === 0) return [];
  const { rows } = await pool.query<{ tenant_id: string; user_id: string; connector: string; ref: string }>(
    'SELECT tenant_id, user_id, connector, ref FROM lanyard_activity_due($1::uuid[], $2::text[], $3, $4)',
    [connectors.map((c) => c.tenantId), connectors.map((c) => c.connector), before, max],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, connector: r.connector, ref: r.ref }));
}

/**
 * Records a check of an account's activity: the latest activity ever seen is kept. Answers it, for the
 * caller to decide whether the user has become inactive.
 */
export async function recordActivity(db: Queryable, tenantId: string, connector: string, userId: string, reported: Date | null): Promise<Date | null> {
  const { rows } = await db.query<{ last_activity_at: Date | null }>({
    name: 'accounts.activity',
    text: `UPDATE connector_accounts SET last_activity_at = GREATEST(last_activity_at, $4), activity_checked_at = now()
            WHERE tenant_id = $1 AND connector = $2 AND user_id = $3 RETURNING last_activity_at`,
    values: [tenantId, connector, userId, reported],
  });
  return rows[0]?.last_activity_at ?? null;
}
