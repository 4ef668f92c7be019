import type { Queryable } from './pool.js';

/** One MSP-level event about operator identities; ids, names and counts only. */
export interface OperatorEventInput {
  actor: string;
  /** `<resource>.<verb>`, e.g. `operator_key.created`. */
  action: string;
  resourceType: string;
  resourceId: string | null;
  detail: Record<string, string | number | boolean | null | string[]>;
}

export interface OperatorEventRecord extends OperatorEventInput {
  seq: number;
  occurredAt: Date;
}

/** Appends in the caller's transaction, so the event exists if and only if the change it records commits. */
export async function insertOperatorEvent(db: Queryable, event: OperatorEventInput): Promise<void> {
  await db.query('INSERT INTO operator_events (actor, action, resource_type, resource_id, detail) VALUES ($1, $2, $3, $4, $5)', [
    event.actor,
    event.action,
    event.resourceType,
    event.resourceId,
    JSON.stringify(event.detail),
  ]);
}

export async function listOperatorEvents(db: Queryable, opts: { resourceId?: string } = {}): Promise<OperatorEventRecord[]> {
  const { rows } = await db.query<{
    seq: number;
    occurred_at: Date;
    actor: string;
    action: string;
    resource_type: string;
    resource_id: string | null;
    detail: OperatorEventInput['detail'];
  }>(
    `SELECT seq, occurred_at, actor, action, resource_type, resource_id, detail FROM operator_events
      WHERE $1::text IS NULL OR resource_id = $1 ORDER BY seq`,
    [opts.resourceId ?? null],
  );
  return rows.map((r) => ({
    seq: r.seq,
    occurredAt: r.occurred_at,
    actor: r.actor,
    action: r.action,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    detail: r.detail,
  }));
}
