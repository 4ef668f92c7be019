import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_FLAGS } from '../../test/helpers/service-process.js';
import type { EffectsReply, ScheduleReply, SeedReply, StatusReply, WaitReply, WorkerAnswer, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** Compiled with the service by `npm run build` (tsconfig.build.json), so it runs as the service does. */
const ENTRY = fileURLToPath(new URL('../../dist/bench/lib/worker-process.js', import.meta.url));

type Reply<R extends WorkerRequest> = R extends { type: 'expect' | 'status' }
  ? StatusReply
  : R extends { type: 'seed' }
    ? SeedReply
    : R extends { type: 'effects' }
      ? EffectsReply
      : R extends { type: 'run-schedule' }
        ? ScheduleReply
        : WaitReply;

/** A benchmark's side of its worker process: starts it and asks it questions. */
export class BenchWorker {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (answer: WorkerAnswer) => {
      this.pending.get(answer.id)?.(answer.reply);
      this.pending.delete(answer.id);
    });
  }

  /** Forks the built worker with the service's Node.js flags and resolves once its workers run. */
  static async start(env: Record<string, string>): Promise<BenchWorker> {
    const child = fork(ENTRY, [], {
      execArgv: SERVICE_NODE_FLAGS,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new BenchWorker(child);
    await new Promise<void>((resolve, reject) => {
      const died = (code: number | null) => reject(new Error(`bench worker exited with ${String(code)}`));
      child.once('exit', died);
      worker.pending.set(0, () => {
        child.off('exit', died);
        resolve();
      });
    });
    return worker;
  }

  ask<R extends WorkerRequest>(request: R): Promise<Reply<R>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (reply: WorkerReply) => void);
      this.child.send({ id, request });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }
}
