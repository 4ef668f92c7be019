import { describe, expect, it } from 'vitest';
import { parseDateTime } from './date-time.js';

describe('parseDateTime', () => {
  it('reads RFC 3339 date-times with any offset and fraction as the instant they name', () => {
    expect(parseDateTime('2026-03-01T09:30:00Z')).toEqual(new Date('2026-03-01T09:30:00.000Z'));
    expect(parseDateTime('2026-03-01T10:30:00.25+01:00')).toEqual(new Date('2026-03-01T09:30:00.250Z'));
    expect(parseDateTime('2026-03-01t04:00:00.123456-05:30')).toEqual(new Date('2026-03-01T09:30:00.123Z'));
    expect(parseDateTime('2016-12-31T23:59:60Z')).toEqual(new Date('2016-12-31T23:59:59.999Z'));
    expect(parseDateTime('0099-01-01T00:00:00Z')?.getUTCFullYear()).toBe(99);
  });

  it('refuses what names no single instant, or no real day', () => {
    for (const text of [
      '2026-03-01T09:30:00', // no offset: local to whom?
      '2026-03-01',
      '2026-03-01 09:30:00Z',
      'Sun, 01 Mar 2026 09:30:00 GMT',
      'yesterday',
      '1772357400',
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-03-01T24:00:00Z',
      '2026-03-01T09:30:00+24:00',
      '',
    ]) {
      expect(parseDateTime(text), text).toBeNull();
    }
  });
});
