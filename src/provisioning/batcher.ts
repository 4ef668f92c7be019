/**
 * Collects items and hands them on in batches: when `maxItems` have gathered, or `maxWaitMs` after the
 * first of a batch. For checks made once per finished job, which cost one round trip each on their own.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly flushTo: (items: T[]) => Promise<void>,
    private readonly opts: { maxItems: number; maxWaitMs: number },
  ) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.opts.maxItems) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.maxWaitMs);
  }

  /** Hands on what has gathered; resolves once every batch handed on so far is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.items;
    this.items = [];
    if (batch.length) this.running = this.running.then(() => this.flushTo(batch));
    return this.running;
  }
}
