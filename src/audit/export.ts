import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { parseDuration } from '../config/duration.js';
import { inTenantTx } from '../store/transaction.js';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One event as exported: what the hashed entry says, with the event's place and hash in the chain. */
export interface ExportedEvent {
  seq: number;
  occurredAt: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  attributes: string[];
  detail: Record<string, unknown>;
  /** The chain hash after this event, hex: lets a reader tie an export to a checkpoint. */
  hash: string;
}

const COLUMNS = ['seq', 'occurredAt', 'actor', 'action', 'resourceType', 'resourceId', 'attributes', 'detail', 'hash'] as const;

const ISO_DATE = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `--since`: a duration back from `now` (`7d`, `12h`) or an ISO 8601 date (UTC midnight) or date-time with
 * its offset. A date-time without an offset is refused rather than read in whatever zone the machine has.
 */
export function parseSince(text: string, now: Date = new Date()): Date | null {
  const ms = parseDuration(text);
  if (ms !== null) return new Date(now.getTime() - ms);
  const match = ISO_DATE.exec(text.trim());
  if (!match) return null;
  const at = new Date(match[0]);
  if (Number.isNaN(at.getTime())) return null;
  // Date accepts 2024-02-31 as 2 March; a date that does not exist is a typo, not a wish.
  if (!match[2] && at.toISOString().slice(0, 10) !== match[1]) return null;
  return at;
}

/** One CSV cell, RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled. */
export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${COLUMNS.join(',')}\r\n`;
}

export function csvRow(event: ExportedEvent): string {
  return `${COLUMNS.map((column) => csvCell(event[column])).join(',')}\r\n`;
}

export function jsonLine(event: ExportedEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** An event as exported and as the admin API lists it, from its hashed entry. */
export function toExported(seq: number, hash: string, entry: string): ExportedEvent {
  const e = JSON.parse(entry) as Partial<ExportedEvent>;
  return {
    seq,
    occurredAt: e.occurredAt ?? '',
    actor: e.actor ?? '',
    action: e.action ?? '',
    resourceType: e.resourceType ?? '',
    resourceId: e.resourceId ?? null,
    attributes: e.attributes ?? [],
    detail: e.detail ?? {},
    hash,
  };
}

export interface ExportOptions {
  format: ExportFormat;
  /** Only events that occurred at or after this instant. */
  since?: Date;
  out: Writable;
  batchSize?: number;
}

/**
 * Writes a tenant's audit events to `out` in sequence order, a batch at a time, waiting whenever `out` is
 * full, so an export of any size holds one batch in memory. Values come from the hashed entries, not from
 * the query columns; it does not verify the chain (`lanyard audit verify` does). `out` is left open.
 */
export async function exportAuditEvents(pool: pg.Pool, tenantId: string, opts: ExportOptions): Promise<{ events: number }> {
  const batchSize = opts.batchSize ?? 5_000;
  const line = opts.format === 'csv' ? csvRow : jsonLine;
  const write = async (text: string) => {
    if (!opts.out.write(text)) await once(opts.out, 'drain');
  };
  return inTenantTx(
    pool,
    tenantId,
    async (db) => {
      if (opts.format === 'csv') await write(csvHeader());
      let after = 0;
      let events = 0;
      for (;;) {
        const { rows } = await db.query<[number, string, string]>({
          name: 'audit.export-batch',
          text: `SELECT seq, encode(hash, 'hex'), entry FROM audit_events
                  WHERE tenant_id = $1 AND seq > $2 AND ($3::timestamptz IS NULL OR occurred_at >= $3)
                  ORDER BY seq LIMIT $4`,
          values: [tenantId, after, opts.since?.toISOString() ?? null, batchSize],
          rowMode: 'array',
        });
        if (rows.length === 0) break;
        let chunk = '';
        for (const [seq, hash, entry] of rows) chunk += line(toExported(seq, hash, entry));
        await write(chunk);
        events += rows.length;
        after = rows.at(-1)![0];
        if (rows.length < batchSize) break;
      }
      return { events };
    },
    { readOnly: true },
  );
}
