import { describe, expect, it } from 'vitest';
import { addIsoDuration, parseIsoDuration } from './iso-duration.js';

describe('ISO 8601 durations', () => {
  it('reads the forms policies use', () => {
    expect(parseIsoDuration('P90D')).toMatchObject({ days: 90, months: 0 });
    expect(parseIsoDuration('P6M')).toMatchObject({ months: 6 });
    expect(parseIsoDuration('PT12H')).toMatchObject({ hours: 12 });
    expect(parseIsoDuration('P1Y2M3W4DT5H6M7S')).toEqual({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 });
    expect(parseIsoDuration('p90d')).toMatchObject({ days: 90 });
  });

  it('refuses what is not one, or is zero', () => {
    for (const text of ['', 'P', 'PT', '90D', 'P90', 'P-1D', 'P1.5D', 'P0D', 'P1DT', '90 days']) expect(parseIsoDuration(text), text).toBeNull();
  });

  it('adds calendar months, clamping to the end of a shorter month', () => {
    const start = new Date('2026-01-31T10:00:00Z');
    expect(addIsoDuration(start, parseIsoDuration('P1M')!).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addIsoDuration(start, parseIsoDuration('P1Y1M')!).toISOString()).toBe('2027-02-28T10:00:00.000Z');
    expect(addIsoDuration(new Date('2028-01-31T00:00:00Z'), parseIsoDuration('P1M')!).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('adds days and times exactly', () => {
    const start = new Date('2026-03-01T00:00:00Z');
    expect(addIsoDuration(start, parseIsoDuration('P90D')!).toISOString()).toBe('2026-05-30T00:00:00.000Z');
    expect(addIsoDuration(start, parseIsoDuration('PT36H')!).toISOString()).toBe('2026-03-02T12:00:00.000Z');
    expect(addIsoDuration(start, parseIsoDuration('P2W')!).toISOString()).toBe('2026-03-15T00:00:00.000Z');
  });
});
