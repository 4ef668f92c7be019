import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

async function lanyard(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/lanyard.js', ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('lanyard policy validate', () => {
  it('accepts the example policy', async () => {
    const ok = await lanyard(['policy', 'validate', 'config/globex-partners.policy.yaml', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ valid: true, packages: ['warehouse-analyst', 'crm-viewer'], rules: 2 });
  }, 30_000);

  it('lists each problem with its path and value, on stderr, with exit status 78', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanyard-policy-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\npackages:\n  p: { entitlements: { c: [e] }, maxDuration: 90d }\nrules:\n  - when: { group: G }\n    grant: [p]\n  - grant: [p]\n');
    const human = await lanyard(['policy', 'validate', file]);
    expect(human.code).toBe(78);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`${file}: packages.p.maxDuration: expected an ISO 8601 duration`);
    expect(human.stderr).toContain('(got "90d")');
    expect(human.stderr).toContain(`${file}: rules[1].when:`);

    writeFileSync(file, 'version: 1\npackages:\n  p: { entitlements: { c: [e] }, maxDuration: P90D }\nrules:\n  - when: { group: G }\n    grant: [p, crm-admin]\n');
    const json = await lanyard(['policy', 'validate', file, '--json']);
    expect(json.code).toBe(78);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'invalid_config', message: `${file} is not a valid policy`, problems: [{ path: 'rules[0].grant[1]', problem: 'unknown access package "crm-admin"' }] },
    });
  }, 30_000);
});
