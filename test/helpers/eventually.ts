/**
 * Polls `check` until it stops throwing, for asynchronous outcomes (jobs, downstream effects); the last
 * failure is rethrown at the deadline, so the test says what never became true.
 */
export async function eventually<T>(check: () => Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
    }
  }
}
