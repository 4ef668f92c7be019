/**
 * Whether a grant counts as unused: it has been in place for the whole period and its account shows no
 * activity within it. Pure. An account never seen active counts from the grant's start, so access that was
 * never used ends too; a grant younger than the period is never unused.
 */
export function isUnused(input: { startedAt: Date | null; lastActivityAt: Date | null; afterMs: number; now: Date }): boolean {
  const { startedAt, lastActivityAt, afterMs, now } = input;
  if (startedAt === null) return false;
  const cutoff = now.getTime() - afterMs;
  if (startedAt.getTime() > cutoff) return false;
  return lastActivityAt === null || lastActivityAt.getTime() <= cutoff;
}

/** The later of two sightings: connectors report what they see now, which may be less than before. */
export function latestActivity(stored: Date | null, reported: Date | null): Date | null {
  if (stored === null) return reported;
  if (reported === null) return stored;
  return reported > stored ? reported : stored;
}
