/**
 * What bench:provision and bench:lifecycle ask their worker process (bench/lib/worker-process.ts) over the
 * IPC channel. The memory connector's downstream lives in the worker, so the questions about it are
 * answered there; each `wait-*` answers once its condition holds, so the latency measured includes no
 * polling interval.
 */
export type WorkerRequest =
  | { type: 'wait-all-granted'; namespace: string; accounts: number; entitlements: number; timeoutMs: number }
  | { type: 'wait-granted'; namespace: string; refs: string[]; entitlement: string; timeoutMs: number }
  | { type: 'wait-retired'; namespace: string; ref: string; timeoutMs: number }
  | { type: 'expect'; namespace: string; accounts: [string, string[]][] }
  | { type: 'status'; namespace: string }
  /** Fills the downstream with accounts already holding entitlements, as a seeded database says they do. */
  | { type: 'seed'; namespace: string; accounts: { ref: string; userName: string; grants: string[] }[] }
  /** Counts the effects made so far, by kind (`revoke`, `grant`, `create`, …). */
  | { type: 'effects'; namespace: string }
  /** Runs one schedule (e.g. `lifecycle-due`) once, now, exactly as its BullMQ job runs it. */
  | { type: 'run-schedule'; id: string };

export interface WaitReply {
  ok: boolean;
  /** Downstream effects in the namespace so far. */
  operations: number;
}

/** How the downstream compares with what `expect` said it should hold. */
export interface StatusReply {
  /** Every expected account holds as many entitlements as expected. */
  settled: boolean;
  /** Expected accounts missing an expected entitlement. */
  lost: number;
  /** Effects on expected accounts that happened more than once. */
  duplicateEffects: number;
  /** Effects on expected accounts. */
  operations: number;
}

export interface SeedReply {
  /** Accounts the downstream now holds. */
  accounts: number;
}

export interface EffectsReply {
  /** Distinct effects per kind. */
  kinds: Record<string, number>;
  /** Effects made, repeats included. */
  total: number;
  /** Effects that happened more than once. */
  duplicateEffects: number;
}

/** The schedule's own answer (e.g. `{ marked }`), or why it failed; `ms` as timed in the worker. */
export type ScheduleReply = { ok: true; result: Record<string, number>; ms: number } | { ok: false; error: string };

export type WorkerReply = WaitReply | StatusReply | SeedReply | EffectsReply | ScheduleReply;

export type WorkerMessage = { id: number; request: WorkerRequest };
export type WorkerAnswer = { id: number; reply: WorkerReply };
