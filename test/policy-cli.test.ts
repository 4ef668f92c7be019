import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.js';
import { TEST_MASTER_KEY } from './helpers/test-service.js';


function lanyard(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, env);
}

describe('lanyard policy validate', () => {
  it('accepts the example policy', async () => {
    const ok = await lanyard(['policy', 'validate', 'config/globex-partners.policy.yaml', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ valid: true, packages: ['warehouse-analyst', 'crm-viewer', 'warehouse-admin'], rules: 2 });
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

describe('lanyard policy plan, apply and show', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, LANYARD_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'silent' };
  });
  afterAll(() => db.drop());

  it('plans, applies and shows a tenant\'s policy', async () => {
    const file = 'config/globex-partners.policy.yaml';
    expect((await lanyard(['tenant', 'create', 'globex'], env)).code).toBe(0);
    const plan = await lanyard(['policy', 'plan', 'globex', file, '--json'], env);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toEqual({ users: 0, byPackage: {}, quarantined: 0, changes: [] });
    const applied = await lanyard(['policy', 'apply', 'globex', file, '--json'], env);
    expect(JSON.parse(applied.stdout)).toMatchObject({ slug: 'globex', version: 1, appliedBy: expect.stringMatching(/^operator:cli:/) });
    const shown = await lanyard(['policy', 'show', 'globex'], env);
    expect(shown.stdout).toMatch(/^# version 1, applied by operator:cli:/);
    expect(shown.stdout).toContain('warehouse-analyst:');
    const missing = await lanyard(['policy', 'show', 'nobody', '--json'], env);
    expect(missing.code).toBe(3);
  }, 60_000);

  it('adds, lists and tests a connector from a YAML file, never printing its secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanyard-connector-'));
    const file = join(dir, 'warehouse.yaml');
    const url = new URL(db.url);
    url.password = 'Sup3r-S3cret';
    writeFileSync(file, `url: ${url.toString()}\nrolePrefix: lanyard_cli_\n`);
    const added = await lanyard(['connector', 'add', 'globex', 'warehouse-pg', '--kind', 'postgres', '--config', file, '--json'], env);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'warehouse-pg', kind: 'postgres', config: { url: '[encrypted]', rolePrefix: 'lanyard_cli_' } });
    const listed = await lanyard(['connector', 'list', 'globex'], env);
    expect(listed.stdout).toContain('warehouse-pg\tpostgres');
    expect(listed.stdout + added.stdout + added.stderr).not.toContain('Sup3r-S3cret');
    const tested = await lanyard(['connector', 'test', 'globex', 'warehouse-pg', '--json'], env);
    expect(JSON.parse(tested.stdout)).toEqual({ name: 'warehouse-pg', ok: true });
    writeFileSync(file, 'url: [unclosed\n');
    const broken = await lanyard(['connector', 'add', 'globex', 'other', '--kind', 'postgres', '--config', file], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON or YAML/);
  }, 60_000);
});
