import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeSeqCursor, decodeTimeIdCursor, encodeCursor, pageOfList, pageOfRows } from './pagination.js';

const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('cursors', () => {
  it('round-trip a key, and refuse what no list gave out', () => {
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00.000001Z', 'a']), 2)).toEqual(['2026-01-01T00:00:00.000001Z', 'a']);
    expect(decodeCursor(undefined, 1)).toBeNull();
    for (const bad of ['%%%', forged({ a: 1 }), forged([1, 2]), forged([null])]) expect(() => decodeCursor(bad, 1)).toThrow(/cursor/);
  });

  it('check sequence and (time, id) keys before they reach a query', () => {
    expect(decodeSeqCursor(encodeCursor([42]))).toBe(42);
    for (const bad of [forged(['42']), forged([-1]), forged([1.5])]) expect(() => decodeSeqCursor(bad)).toThrow(/cursor/);
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(decodeTimeIdCursor(encodeCursor(['2026-01-01T00:00:00.000001Z', id]))).toEqual({ at: '2026-01-01T00:00:00.000001Z', id });
    for (const bad of [forged(['yesterday', id]), forged(['2026-01-01T00:00:00Z', 'x; DROP TABLE']), forged([1, id])]) expect(() => decodeTimeIdCursor(bad)).toThrow(/cursor/);
  });
});

describe('pages', () => {
  it('of rows fetched one past the limit: a next cursor only when more follow', () => {
    expect(pageOfRows([1, 2, 3], 2, (n) => [n])).toEqual({ items: [1, 2], nextCursor: encodeCursor([2]) });
    expect(pageOfRows([1, 2], 2, (n) => [n])).toEqual({ items: [1, 2], nextCursor: null });
    expect(pageOfRows([], 2, (n: number) => [n])).toEqual({ items: [], nextCursor: null });
  });

  it('of a list read whole: in key order, each page after the last key of the one before, nothing skipped or repeated', () => {
    const all = ['delta', 'alpha', 'charlie', 'bravo', 'echo'];
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = pageOfList(all, { limit: 2, cursor }, (s) => [s]);
      seen.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    // An item removed meanwhile does not shift the next page.
    expect(pageOfList(['alpha', 'charlie', 'delta'], { limit: 2, cursor: encodeCursor(['bravo']) }, (s) => [s]).items).toEqual(['charlie', 'delta']);
  });
});
