import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from './load-policy.js';

const ISSUE_EXAMPLE = `
version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  warehouse-analyst:
    description: Read-only analytics tables
    entitlements:
      warehouse-pg: [role:analyst_ro]
    maxDuration: P90D
  crm-viewer:
    entitlements:
      crm: [group:Viewers]
    maxDuration: P180D
    approval: required
rules:
  - when: { group: Partner Analysts }
    grant: [warehouse-analyst]
  - when: { group: Partner Sales, user: { organization: Globex } }
    grant: [crm-viewer]
`;

function errorsOf(text: string): string[] {
  const result = loadPolicy(text);
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.errors.map((e) => e.message);
}

describe('loadPolicy', () => {
  it('accepts the documented starting shape with its defaults', () => {
    const result = loadPolicy(ISSUE_EXAMPLE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.packages['warehouse-analyst']!.approval).toBe('none');
    expect(result.policy.packages['crm-viewer']!.approval).toBe('required');
    expect(result.policy.intake).toEqual({ required: ['organization', 'sponsor', 'accessEndDate'], from: {} });
    expect(result.policy.rules[1]!.when).toEqual({ group: 'Partner Sales', user: { organization: 'Globex' } });
  });

  it('accepts every example in config/', () => {
    const dir = new URL('../../config/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.policy.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const result = loadPolicy(readFileSync(new URL(file, dir), 'utf8'));
      expect(result.ok ? [] : result.errors.map((e) => e.message), file).toEqual([]);
    }
  });

  it('names the rule and position of an unknown package', () => {
    const text = ISSUE_EXAMPLE.replace('grant: [crm-viewer]', 'grant: [crm-viewer, crm-admin]');
    expect(errorsOf(text)).toEqual(['rules[1].grant[1]: unknown access package "crm-admin"']);
  });

  it('names the path and the value of each schema violation, all at once', () => {
    const text = ISSUE_EXAMPLE.replace('maxDuration: P90D', 'maxDuration: 90 days')
      .replace('approval: required', 'approval: maybe')
      .replace('required: [organization, sponsor, accessEndDate]', 'required: [organisation]');
    const errors = errorsOf(text);
    expect(errors).toContainEqual(expect.stringMatching(/^packages\.warehouse-analyst\.maxDuration: expected an ISO 8601 duration.*\(got "90 days"\)$/));
    expect(errors).toContainEqual(expect.stringMatching(/^packages\.crm-viewer\.approval: .*\(got "maybe"\)$/));
    expect(errors).toContainEqual(expect.stringMatching(/^intake\.required\[0\]: .*\(got "organisation"\)$/));
  });

  it('refuses unknown keys instead of ignoring them', () => {
    expect(errorsOf(ISSUE_EXAMPLE.replace('    maxDuration: P180D', '    maxDuraton: P180D\n    maxDuration: P180D'))).toContainEqual(
      expect.stringContaining('packages.crm-viewer'),
    );
    expect(errorsOf(`${ISSUE_EXAMPLE}\nrulez: []\n`)).toContainEqual(expect.stringContaining('rulez'));
  });

  it('keeps packages within the declared connectors', () => {
    expect(errorsOf(`connectors: [warehouse-pg]\n${ISSUE_EXAMPLE}`)).toEqual(['packages.crm-viewer.entitlements.crm: connector "crm" is not listed under connectors']);
  });

  it('refuses a rule without conditions, a package without entitlements, and a wrong version', () => {
    expect(errorsOf(ISSUE_EXAMPLE.replace('when: { group: Partner Analysts }', 'when: {}'))).toEqual([
      expect.stringMatching(/^rules\[0\]\.when: a rule needs a group or user condition/),
    ]);
    expect(errorsOf(ISSUE_EXAMPLE.replace('version: 1', 'version: 2'))).toEqual([expect.stringMatching(/^version: .*\(got 2\)$/)]);
    expect(errorsOf(ISSUE_EXAMPLE.replace('      crm: [group:Viewers]\n', '      {}\n'))).toEqual([
      expect.stringMatching(/^packages\.crm-viewer\.entitlements: a package grants at least one entitlement/),
    ]);
  });

  it('reports YAML syntax errors with their line, and duplicate keys', () => {
    expect(errorsOf('version: 1\npackages: [unclosed\n')[0]).toMatch(/^line \d+: YAML: /);
    expect(errorsOf('version: 1\nversion: 1\npackages: {}\n')[0]).toMatch(/^line 2: YAML: /);
  });
});
