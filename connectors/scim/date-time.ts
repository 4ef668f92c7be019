/**
 * An RFC 3339 date-time (`2026-03-01T09:30:00Z`, `2026-03-01T10:30:00.250+01:00`) as a Date; null for
 * anything else. Stricter than Date.parse on purpose: that also reads a date alone, a time without an offset
 * (in this process's time zone) and free text such as "March 1", none of which names one instant.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

export function parseDateTime(text: string): Date | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [m[1], m[2], m[3], m[4], m[5], m[6], m[9], m[10]].map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 60) return null;
  if (m[8] && (offsetHours! > 23 || offsetMinutes! > 59)) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC would read years 0–99 as 1900–1999.
  date.setUTCFullYear(year!, month! - 1, day!);
  // A day past the end of its month (30 February) rolls over: refused.
  if (date.getUTCMonth() !== month! - 1) return null;
  // A leap second (:60) is read as the last millisecond of the minute before it.
  date.setUTCHours(hour!, minute!, Math.min(second!, 59), second === 60 ? 999 : Math.floor(Number(`0${m[7] ?? ''}`) * 1000));
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (offsetHours! * 60 + offsetMinutes!) : 0;
  return new Date(date.getTime() - offset * 60_000);
}
