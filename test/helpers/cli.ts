import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testQueuePrefix } from './test-service.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as an operator would, with exactly the environment given. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  // A queue prefix of its own unless the test names one: what a command queues is never another run's work.
  const fullEnv: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'silent', QUEUE_PREFIX: testQueuePrefix(), ...env };
  try {
    const { stdout, stderr } = await run('node', ['bin/lanyard.js', ...args], { cwd: ROOT, env: fullEnv, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
