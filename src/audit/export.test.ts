import { describe, expect, it } from 'vitest';
import { csvCell, csvHeader, csvRow, type ExportedEvent, jsonLine, parseSince } from './export.js';

const event: ExportedEvent = {
  seq: 7,
  occurredAt: '2024-05-01T09:00:00.000Z',
  actor: 'operator:cli:ann',
  action: 'user.patched',
  resourceType: 'user',
  resourceId: null,
  attributes: ['name.givenName', 'title'],
  detail: { note: 'a, "b"\nc', n: 2 },
  hash: 'ab'.repeat(32),
};

describe('CSV cells (RFC 4180)', () => {
  it('quote only what needs it, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r')).toBe('"cr\r"');
  });

  it('write null as an empty cell, numbers as digits and structures as JSON', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(12)).toBe('12');
    expect(csvCell(['a', 'b'])).toBe('"[""a"",""b""]"');
    expect(csvCell({})).toBe('{}');
  });

  it('end rows with CRLF, one cell per header column', () => {
    expect(csvHeader()).toBe('seq,occurredAt,actor,action,resourceType,resourceId,attributes,detail,hash\r\n');
    expect(csvRow(event)).toBe(
      `7,2024-05-01T09:00:00.000Z,operator:cli:ann,user.patched,user,,"[""name.givenName"",""title""]","{""note"":""a, \\""b\\""\\nc"",""n"":2}",${event.hash}\r\n`,
    );
  });
});

describe('JSON Lines', () => {
  it('write one event per line, parsing back to the event', () => {
    const line = jsonLine(event);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(event);
  });
});

describe('--since', () => {
  const now = new Date('2024-05-10T12:00:00.000Z');

  it('reads a duration back from now', () => {
    expect(parseSince('7d', now)?.toISOString()).toBe('2024-05-03T12:00:00.000Z');
    expect(parseSince('90m', now)?.toISOString()).toBe('2024-05-10T10:30:00.000Z');
  });

  it('reads a date as UTC midnight and a date-time with its offset', () => {
    expect(parseSince('2024-05-01', now)?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseSince('2024-05-01T09:30Z', now)?.toISOString()).toBe('2024-05-01T09:30:00.000Z');
    expect(parseSince('2024-05-01T09:30:00+02:00', now)?.toISOString()).toBe('2024-05-01T07:30:00.000Z');
  });

  it('refuses dates that do not exist, date-times without an offset, and anything else', () => {
    for (const text of ['2024-02-31', '2024-13-01', '2024-05-01T09:30', 'yesterday', '7 days', '', '1714550400']) expect(parseSince(text, now)).toBeNull();
  });
});
