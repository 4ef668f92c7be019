import type { Statement } from './pool.js';

/** One audit event ready for the chain: `entry` is the canonical JSON the hash covers. */
export interface PendingAuditEvent {
  tenantId: string;
  entry: string;
  occurredAt: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
}

/**
 * The statement that appends a transaction's events to their tenants' chains, grouped by tenant (in a
 * fixed order, so two transactions never take two heads in opposite orders) and otherwise in the order
 * they were recorded.
 */
export function appendAuditStatement(events: readonly PendingAuditEvent[]): Statement {
  const ordered = events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => (a.event.tenantId === b.event.tenantId ? a.index - b.index : a.event.tenantId < b.event.tenantId ? -1 : 1))
    .map(({ event }) => event);
  return {
    name: 'audit.append',
    text: 'SELECT lanyard_append_audit($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])',
    values: [
      ordered.map((e) => e.tenantId),
      ordered.map((e) => e.entry),
      ordered.map((e) => e.occurredAt),
      ordered.map((e) => e.actor),
      ordered.map((e) => e.action),
      ordered.map((e) => e.resourceType),
      ordered.map((e) => e.resourceId),
    ],
  };
}
