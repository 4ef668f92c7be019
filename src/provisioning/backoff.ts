/**
 * Delay before retry number `attempt` (1 for the first retry): exponential from `baseMs`, capped at
 * `maxMs`, spread ±50 % so that jobs failing together do not all come back together. Pure: `random` is
 * passed in for tests.
 */
export function backoffDelay(attempt: number, opts: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponential = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + random()));
}
