/**
 * ISO 8601 durations as policy files write them (`P90D`, `P6M`, `PT12H`, `P1Y2M`). Months and years are
 * calendar units, so a duration is added to a date rather than converted to milliseconds.
 */
export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const PATTERN = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function parseIsoDuration(text: string): IsoDuration | null {
  const match = PATTERN.exec(text.trim().toUpperCase());
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  const duration = { years: years!, months: months!, weeks: weeks!, days: days!, hours: hours!, minutes: minutes!, seconds: seconds! };
  return Object.values(duration).some((n) => n > 0) ? duration : null;
}

/** `start` moved forward by `duration`, in UTC; a month end clamps (31 Jan + P1M = 28/29 Feb). */
export function addIsoDuration(start: Date, duration: IsoDuration): Date {
  const d = new Date(start.getTime());
  const monthTotal = d.getUTCMonth() + duration.months + duration.years * 12;
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(monthTotal);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  const ms = ((((duration.weeks * 7 + duration.days) * 24 + duration.hours) * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
  return new Date(d.getTime() + ms);
}

/** `start` moved forward by a duration the policy schema has already validated. */
export function addValidDuration(start: Date, text: string): Date {
  const duration = parseIsoDuration(text);
  if (!duration) throw new Error(`unvalidated duration ${text}`);
  return addIsoDuration(start, duration);
}

/** A validated duration in milliseconds (months and years counted from 1970-01-01, for windows and periods). */
export function validDurationMs(text: string): number {
  return addValidDuration(new Date(0), text).getTime();
}
