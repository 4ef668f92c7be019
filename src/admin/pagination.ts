import { z } from 'zod';
import { DomainError } from '../errors/domain-error.js';

/** Items per page when `limit` is not given, and the most a page may hold. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

export type CursorKey = readonly (string | number)[];

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).meta({ description: `items per page, 1–${MAX_PAGE_SIZE}` }),
  cursor: z.string().max(1024).optional().meta({ description: 'the `nextCursor` of the previous page' }),
});
export type PageQuery = z.output<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

export function pageSchema<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last one' }),
    })
    .meta({ id });
}

/**
 * Cursors are opaque to clients: the sort key of the last item returned, as base64url JSON. They stay
 * valid while items come and go, because the next page starts after a key, not at an offset.
 */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): CursorKey | null {
  if (cursor === undefined) return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== arity || !key.every((k) => typeof k === 'string' || typeof k === 'number')) {
    throw new DomainError('invalid_input', 'cursor: not a cursor this list gave out');
  }
  return key as CursorKey;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A (timestamp, id) key, as the lists ordered by time then id give them out: checked here, so a forged
 * cursor is a 400 and never reaches the database as a value it would refuse.
 */
export function decodeTimeIdCursor(cursor: string | undefined): { at: string; id: string } | null {
  const key = decodeCursor(cursor, 2);
  if (!key) return null;
  const [at, id] = key;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !UUID.test(id)) {
    throw new DomainError('invalid_input', 'cursor: not a cursor this list gave out');
  }
  return { at, id };
}

/** A sequence-number key (users, groups, audit events, policy versions); null without a cursor. */
export function decodeSeqCursor(cursor: string | undefined): number | null {
  const key = decodeCursor(cursor, 1);
  if (!key) return null;
  const seq = key[0];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new DomainError('invalid_input', 'cursor: not a cursor this list gave out');
  return seq;
}

/** Orders keys element by element: numbers as numbers, strings by code unit (as PostgreSQL's "C" collation). */
export function compareKeys(a: CursorKey, b: CursorKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * A page of rows a query fetched `limit + 1` of, after the cursor, in key order: the extra row only tells
 * that there is a next page.
 */
export function pageOfRows<T>(rows: readonly T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit && items.length ? encodeCursor(keyOf(items.at(-1)!)) : null };
}

/** A page of a list read whole (short, bounded lists: a tenant's connectors, tokens, policy versions…). */
export function pageOfList<T>(all: readonly T[], query: PageQuery, keyOf: (item: T) => CursorKey, arity = 1): Page<T> {
  const sorted = [...all].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  const after = decodeCursor(query.cursor, arity);
  const rest = after ? sorted.filter((item) => compareKeys(keyOf(item), after) > 0) : sorted;
  return pageOfRows(rest.slice(0, query.limit + 1), query.limit, keyOf);
}
