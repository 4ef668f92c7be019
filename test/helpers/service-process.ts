import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Node.js flags `npm start` runs the service with (package.json); a test keeps the two in step. */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=16'];

/**
 * What a service process runs: the sources through `bin/lanyard.js` (what tests need, no build), or the
 * compiled `dist/` that `npm start` runs (what benchmarks measure; `npm run build` first).
 */
export const ENTRIES = { source: 'bin/lanyard.js', built: 'dist/src/main.js' } as const;

export interface ServiceProcess {
  child: ChildProcess;
  /** Where it listens, e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts `lanyard <command>` as its own process, the way an operator runs it, on a free port, and resolves
 * once `/healthz` answers (a worker: once it logs that it runs). Its log lines are drained (and kept only for the error message if it dies).
 */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  nodeArgs: string[] = [],
  command: 'start' | 'serve' | 'worker' = 'start',
  entry: keyof typeof ENTRIES = 'source',
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, ENTRIES[entry], command], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      LOG_LEVEL: 'warn',
      QUEUE_PREFIX: `test-${process.pid}-${port}`,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${output.join('')}`);
    if (command === 'worker') {
      // A worker has no HTTP side: it is up once it says so (at LOG_LEVEL info or lower).
      if (output.join('').includes('provisioning workers running')) break;
    } else {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start in ${timeoutMs} ms: ${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
