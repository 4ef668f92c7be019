import type pg from 'pg';

/**
 * Marks for reconciliation every user with something due (a live grant at its end, a pending approval
 * past its deadline), across tenants, and answers who was marked. See `lanyard_mark_due`.
 */
export async function markDueUsers(pool: pg.Pool, max: number): Promise<{ tenantId: string; userId: string }[]> {
  const { rows } = await pool.query<{ tenant_id: string; user_id: string }>('SELECT tenant_id, user_id FROM lanyard_mark_due($1)', [max]);
  return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id }));
}
