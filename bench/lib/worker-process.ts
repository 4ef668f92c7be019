/**
 * The provisioning workers of bench:provision and bench:lifecycle, in a process of their own so their
 * memory is measured alone. It starts them exactly as `lanyard worker` does (configuration from the
 * environment), answers the benchmark's questions about the memory connector's downstream, which lives
 * here, and runs a schedule on request, as its BullMQ job would.
 */
import { memoryDownstream } from '../../connectors/memory/client.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { startWorkers } from '../../src/provisioning/workers.js';
import { openRuntime } from '../../src/runtime.js';
import type { EffectsReply, ScheduleReply, StatusReply, WaitReply, WorkerAnswer, WorkerMessage, WorkerReply, WorkerRequest } from './worker-protocol.js';

const POLL_MS = 5;

const config = loadConfig();
const log = createLogger(config.logLevel);
const runtime = await openRuntime(config, log);
const workers = await startWorkers({ pool: runtime.pool, queues: runtime.queues(), redisUrl: config.redisUrl, masterKey: config.masterKey, config: config.jobs, log });
const expected = new Map<string, Map<string, string[]>>();

const operations = (namespace: string) => [...memoryDownstream(namespace).effects.values()].reduce((a, b) => a + b, 0);

async function waitFor(namespace: string, check: () => boolean, timeoutMs: number): Promise<WaitReply> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return { ok: false, operations: operations(namespace) };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { ok: true, operations: operations(namespace) };
}

function status(namespace: string): StatusReply {
  const downstream = memoryDownstream(namespace);
  const want = expected.get(namespace) ?? new Map<string, string[]>();
  let settled = true;
  let lost = 0;
  for (const [ref, entitlements] of want) {
    const held = downstream.accounts.get(ref)?.grants ?? new Set<string>();
    if (held.size !== entitlements.length) settled = false;
    if (entitlements.some((e) => !held.has(e))) lost += 1;
  }
  let duplicateEffects = 0;
  let ops = 0;
  for (const [effect, count] of downstream.effects) {
    if (!want.has(effect.split(':')[1]!)) continue;
    ops += count;
    if (count > 1) duplicateEffects += 1;
  }
  return { settled, lost, duplicateEffects, operations: ops };
}

function effects(namespace: string): EffectsReply {
  const kinds: Record<string, number> = {};
  let total = 0;
  let duplicateEffects = 0;
  for (const [effect, count] of memoryDownstream(namespace).effects) {
    const kind = effect.slice(0, effect.indexOf(':'));
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    total += count;
    if (count > 1) duplicateEffects += 1;
  }
  return { kinds, total, duplicateEffects };
}

async function runSchedule(id: string): Promise<ScheduleReply> {
  const started = performance.now();
  try {
    const result = await workers.schedules.runNow(id);
    return { ok: true, result, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function answer(request: WorkerRequest): Promise<WorkerReply> {
  if (request.type === 'run-schedule') return runSchedule(request.id);
  const downstream = memoryDownstream(request.namespace);
  switch (request.type) {
    case 'wait-all-granted':
      return waitFor(
        request.namespace,
        () => downstream.accounts.size === request.accounts && [...downstream.accounts.values()].every((a) => a.grants.size === request.entitlements),
        request.timeoutMs,
      );
    case 'wait-granted':
      return waitFor(request.namespace, () => request.refs.every((ref) => downstream.accounts.get(ref)?.grants.has(request.entitlement)), request.timeoutMs);
    case 'wait-retired':
      return waitFor(
        request.namespace,
        () => {
          const account = downstream.accounts.get(request.ref);
          return account !== undefined && account.grants.size === 0 && !account.enabled;
        },
        request.timeoutMs,
      );
    case 'expect':
      expected.set(request.namespace, new Map(request.accounts));
      return status(request.namespace);
    case 'status':
      return status(request.namespace);
    case 'seed':
      for (const { ref, userName, grants } of request.accounts) downstream.accounts.set(ref, { userName, enabled: true, grants: new Set(grants) });
      return { accounts: downstream.accounts.size };
    case 'effects':
      return effects(request.namespace);
  }
}

process.on('message', (message: WorkerMessage) => {
  void answer(message.request).then((reply) => process.send!({ id: message.id, reply } satisfies WorkerAnswer));
});
process.once('SIGTERM', () => {
  void workers
    .close()
    .then(() => runtime.close())
    .finally(() => process.exit(0));
});
process.send!({ id: 0, reply: { ok: true, operations: 0 } } satisfies WorkerAnswer);
