/**
 * Collects the bind values of a query while SQL text is being assembled, handing out `$n` placeholders, so
 * nothing a client sends is ever spliced into SQL text.
 */
export class SqlParams {
  /** The values to pass to the driver alongside the SQL, in placeholder order. */
  readonly values: unknown[];

  /**
   * @param initial values already bound by the caller (e.g. `$1` for the tenant id); copied, so read the
   *   final list from {@link SqlParams.values}.
   */
  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }

  /** Binds `value` and returns its placeholder, e.g. `$3`. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
