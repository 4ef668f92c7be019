import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/** One-file onboarding through the real CLI: plan, apply, apply again, change, and refused manifests. */
let svc: TestService;
let dir: string;
const SECRET = 'bearer-token-that-must-never-be-printed';
const POLICY = readFileSync(new URL('../config/globex-partners.policy.yaml', import.meta.url), 'utf8');

function manifest(slug: string, opts: { name?: string; contractEnd?: string; token?: string; policy?: string } = {}): string {
  return `version: 1
tenant:
  slug: ${slug}
  name: ${opts.name ?? 'Globex Corporation'}
  contractEnd: ${opts.contractEnd ?? '2027-06-30'}
connectors:
  - name: crm
    kind: scim
    onDelete: disable
    config:
      baseUrl: http://127.0.0.1:9/scim/v2
      auth: { type: bearer, token: ${opts.token ?? '{ env: CRM_TOKEN }'} }
  - name: warehouse-pg
    kind: postgres
    config:
      url: { file: warehouse-url }
      rolePrefix: globex_
policy:
  file: ${opts.policy ?? 'policy.yaml'}
`;
}

const apply = (file: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCli(['tenant', 'apply', join(dir, file), '--json', ...extra], { ...svc.cliEnv(), CRM_TOKEN: SECRET, ...env });

/** The error message of a --json run. */
const errorOf = (result: { stderr: string }) => (JSON.parse(result.stderr) as { error: { message: string } }).error.message;

beforeAll(async () => {
  svc = await startTestService();
  dir = mkdtempSync(join(tmpdir(), 'lanyard-manifest-'));
  writeFileSync(join(dir, 'warehouse-url'), 'postgres://lanyard@127.0.0.1:5432/warehouse\n');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
});
afterAll(async () => {
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lanyard tenant apply', () => {
  it('plans without changing anything, then creates the tenant, its connectors and policy, and prints the SCIM URL and a token once', async () => {
    writeFileSync(join(dir, 'a.yaml'), manifest('mani-a'));
    const planned = await apply('a.yaml', ['--dry-run']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(JSON.parse(planned.stdout)).toMatchObject({
      applied: false,
      steps: [
        { action: 'create-tenant', slug: 'mani-a' },
        { action: 'set-contract-end', to: '2027-06-30T00:00:00.000Z' },
        { action: 'add-connector', name: 'crm', kind: 'scim' },
        { action: 'add-connector', name: 'warehouse-pg', kind: 'postgres' },
        { action: 'apply-policy', version: 1 },
      ],
    });
    expect((await runCli(['tenant', 'list', '--json'], svc.cliEnv())).stdout).not.toContain('mani-a');

    const applied = await apply('a.yaml');
    expect(applied.code, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout) as { applied: boolean; scimBaseUrl: string; token: { token: string } };
    expect(result.applied).toBe(true);
    expect(result.scimBaseUrl).toMatch(/\/scim\/v2\/mani-a$/);
    expect(applied.stdout + applied.stderr).not.toContain(SECRET);
    // The token works on the tenant's SCIM endpoint.
    expect((await svc.http.get('/scim/v2/mani-a/Users').set({ Authorization: `Bearer ${result.token.token}` })).status).toBe(200);
    const connectors = JSON.parse((await runCli(['connector', 'list', 'mani-a', '--json'], svc.cliEnv())).stdout) as { name: string; config: { auth?: { token: string } } }[];
    expect(connectors.map((c) => c.name)).toEqual(['crm', 'warehouse-pg']);
    expect(connectors[0]!.config.auth!.token).toBe('[encrypted]');
    expect(JSON.parse((await runCli(['policy', 'show', 'mani-a', '--json'], svc.cliEnv())).stdout)).toMatchObject({ version: 1 });
  });

  it('changes nothing when applied again, and issues no second token', async () => {
    const again = await apply('a.yaml');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ slug: 'mani-a', applied: true, steps: [], scimBaseUrl: expect.any(String) });
  });

  it('applies only what changed: a rotated secret, a new name, a later contract end, a new policy', async () => {
    writeFileSync(join(dir, 'policy2.yaml'), POLICY.replace('maxDuration: P90D', 'maxDuration: P60D'));
    writeFileSync(join(dir, 'a2.yaml'), manifest('mani-a', { name: 'Globex Corp.', contractEnd: '2027-12-31', policy: 'policy2.yaml' }));
    const changed = await apply('a2.yaml', [], { CRM_TOKEN: 'rotated-token' });
    expect(changed.code, changed.stderr).toBe(0);
    expect((JSON.parse(changed.stdout) as { steps: { action: string }[] }).steps).toEqual([
      { action: 'rename-tenant', from: 'Globex Corporation', to: 'Globex Corp.' },
      { action: 'set-contract-end', from: '2027-06-30T00:00:00.000Z', to: '2027-12-31T00:00:00.000Z' },
      { action: 'update-connector', name: 'crm', changed: ['auth'] },
      { action: 'apply-policy', version: 2 },
    ]);
    expect(changed.stdout).not.toContain('rotated-token');
  });

  it('refuses an inline secret, an unset variable and an unreadable file, naming each path, and changes nothing', async () => {
    writeFileSync(join(dir, 'bad.yaml'), manifest('mani-b', { token: 'inline-secret' }).replace('{ file: warehouse-url }', '{ file: missing-file }'));
    const refused = await apply('bad.yaml', [], { CRM_TOKEN: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('connectors[0].config.auth.token: a secret is given by reference');
    expect(refused.stderr).toMatch(/connectors\[1\]\.config\.url: cannot read .*missing-file: ENOENT/);
    expect(refused.stderr).not.toContain('inline-secret');
    writeFileSync(join(dir, 'unset.yaml'), manifest('mani-b'));
    const unset = await apply('unset.yaml', [], { CRM_TOKEN: '' });
    expect(unset.stderr).toContain('connectors[0].config.auth.token: environment variable CRM_TOKEN is not set');
    expect((await runCli(['tenant', 'list', '--json'], svc.cliEnv())).stdout).not.toContain('mani-b');
  });

  it('refuses an unknown key or kind and an invalid policy, by path', async () => {
    writeFileSync(join(dir, 'odd.yaml'), manifest('mani-c').replace('kind: postgres', 'kind: ldap').replace('version: 1\n', 'version: 1\nextra: true\n'));
    const odd = await apply('odd.yaml');
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/extra|Unrecognized key/);
    writeFileSync(join(dir, 'kind.yaml'), manifest('mani-c').replace('kind: postgres', 'kind: ldap'));
    expect(errorOf(await apply('kind.yaml'))).toContain('connectors[1].kind: "ldap" is not one of');
    writeFileSync(join(dir, 'badpolicy.yaml'), 'version: 1\npackages: {}\nrules:\n  - when: { group: G }\n    grant: [nope]\n');
    writeFileSync(join(dir, 'pol.yaml'), manifest('mani-c', { policy: 'badpolicy.yaml' }));
    expect(errorOf(await apply('pol.yaml'))).toContain('policy: rules[0].grant[0]: unknown access package "nope"');
  });

  it('applies the example manifest in config/ as a dry run', async () => {
    const example = await runCli(['tenant', 'apply', 'config/globex.tenant.yaml', '--dry-run', '--json'], {
      ...svc.cliEnv(),
      GLOBEX_WAREHOUSE_URL: 'postgres://lanyard@127.0.0.1:5432/warehouse',
    });
    // The CRM client secret file is not in the repository: the plan says exactly which file is missing.
    expect(example.stderr).toMatch(/connectors\[1\]\.config\.auth\.clientSecret: cannot read .*secrets\/globex-crm-client-secret: ENOENT/);
  });
});
