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
  const ordered = inChainOrder(events);
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

function inChainOrder(events: readonly PendingAuditEvent[]): PendingAuditEvent[] {
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => (a.event.tenantId === b.event.tenantId ? a.index - b.index : a.event.tenantId < b.event.tenantId ? -1 : 1))
    .map(({ event }) => event);
}

/**
 * The same append as literal SQL, for sending with COMMIT in one simple-query round trip. `literal` must be
 * the driver's own escaping (node-postgres' escapeLiteral), which every value goes through: entries are
 * arbitrary text.
 */
export function appendAuditSql(events: readonly PendingAuditEvent[], literal: (text: string) => string): string {
  const ordered = inChainOrder(events);
  const array = (values: (string | null)[], type: string) => `ARRAY[${values.map((v) => (v === null ? 'NULL' : literal(v))).join(',')}]::${type}[]`;
  return `SELECT lanyard_append_audit(${[
    array(ordered.map((e) => e.tenantId), 'uuid'),
    array(ordered.map((e) => e.entry), 'text'),
    array(ordered.map((e) => e.occurredAt), 'timestamptz'),
    array(ordered.map((e) => e.actor), 'text'),
    array(ordered.map((e) => e.action), 'text'),
    array(ordered.map((e) => e.resourceType), 'text'),
    array(ordered.map((e) => e.resourceId), 'text'),
  ].join(', ')})`;
}
