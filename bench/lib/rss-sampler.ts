import { readFileSync } from 'node:fs';

/** Samples a process's resident set size from /proc while a benchmark runs. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  maxBytes = 0;

  constructor(private readonly pid: number, private readonly everyMs = 200) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    try {
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? 0);
      this.maxBytes = Math.max(this.maxBytes, kb * 1024);
    } catch {
      // the process has exited
    }
  }
}
