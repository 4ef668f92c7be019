import { describe, expect, it } from 'vitest';
import { type GroupFacts, evaluate } from './evaluate.js';
import { loadPolicy } from './load-policy.js';
import type { PolicyDocument } from './policy-schema.js';
import { LANYARD_ACCESS_URN, userFacts } from './user-facts.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const NOW = new Date('2026-11-22T12:00:00Z');

function policy(text: string): PolicyDocument {
  const result = loadPolicy(text);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.policy;
}

const POLICY = policy(`
version: 1
intake:
  required: [organization, sponsor, accessEndDate]
packages:
  warehouse-analyst:
    entitlements: { warehouse-pg: [role:analyst_ro] }
    maxDuration: P90D
  warehouse-all:
    entitlements: { warehouse-pg: [role:analyst_ro, role:loader] }
    maxDuration: P30D
  crm-viewer:
    entitlements: { crm: [group:Viewers] }
    maxDuration: P180D
    approval: required
rules:
  - name: analysts
    when: { group: Partner Analysts }
    grant: [warehouse-analyst]
  - when: { group: Partner Sales, user: { organization: Globex } }
    grant: [crm-viewer]
  - when: { group: { externalId: ext-loaders } }
    grant: [warehouse-all]
  - when: { user: { organization: [Initech, Umbrella], "${ENTERPRISE}:department": Finance } }
    grant: [warehouse-analyst]
`);

const ANALYSTS: GroupFacts = { id: '11111111-1111-4111-8111-111111111111', displayName: 'Partner Analysts', externalId: null };
const SALES: GroupFacts = { id: '22222222-2222-4222-8222-222222222222', displayName: 'partner sales', externalId: null };
const LOADERS: GroupFacts = { id: '33333333-3333-4333-8333-333333333333', displayName: 'Loaders', externalId: 'ext-loaders' };

function partner(extra: Record<string, unknown> = {}, intake: Record<string, unknown> = {}, active = true) {
  return userFacts(
    {
      id: 'u1',
      userName: 'pat@globex.example',
      active,
      doc: {
        userName: 'pat@globex.example',
        [LANYARD_ACCESS_URN]: { organization: 'Globex', sponsor: 'ada@acme.example', accessEndDate: '2027-01-31T00:00:00Z', ...intake },
        ...extra,
      },
    },
    POLICY.intake,
  );
}

describe('evaluate', () => {
  it('grants what the matching rules name, with reason and end date', () => {
    const result = evaluate(partner(), [ANALYSTS], POLICY, NOW);
    expect(result).toEqual({
      status: 'eligible',
      desired: [
        {
          connector: 'warehouse-pg',
          entitlement: 'role:analyst_ro',
          endsAt: new Date('2027-01-31T00:00:00Z'),
          endsAtSetBy: 'user',
          userEndsAt: new Date('2027-01-31T00:00:00Z'),
          contractEndsAt: null,
          approvalRequired: false,
          reasons: [
            { rule: 0, ruleName: 'analysts', package: 'warehouse-analyst', group: { id: ANALYSTS.id, displayName: 'Partner Analysts' }, maxDuration: 'P90D', endsAt: new Date('2027-01-31T00:00:00Z'), approvalRequired: false },
          ],
        },
      ],
    });
  });

  it('ends access at the tenant\'s contract end when that comes first, and grants nothing once it has passed', () => {
    const contract = new Date('2026-12-31T00:00:00Z');
    const result = evaluate(partner(), [ANALYSTS], POLICY, NOW, { contractEndsAt: contract });
    expect(result.desired[0]!).toMatchObject({ endsAt: contract, endsAtSetBy: 'contract', contractEndsAt: contract });
    expect(evaluate(partner(), [ANALYSTS], POLICY, NOW, { contractEndsAt: new Date(NOW.getTime() - 1) })).toEqual({ status: 'ended', desired: [] });
  });

  it('ends access at the package maximum when that comes before the user\'s end date', () => {
    const result = evaluate(partner({}, { accessEndDate: '2030-01-01T00:00:00Z' }), [ANALYSTS], POLICY, NOW);
    expect(result.desired[0]!.endsAt).toEqual(new Date('2027-02-20T12:00:00Z'));
    expect(result.desired[0]!.endsAtSetBy).toBe('package');
  });

  it('combines user conditions with the group, case-insensitively, and marks packages that need approval', () => {
    const globex = evaluate(partner(), [SALES], POLICY, NOW);
    expect(globex.desired).toEqual([expect.objectContaining({ connector: 'crm', entitlement: 'group:Viewers', approvalRequired: true })]);
    const other = evaluate(partner({}, { organization: 'Initech' }), [SALES], POLICY, NOW);
    expect(other.desired).toEqual([]);
  });

  it('matches groups by externalId and rules by user attributes alone, including SCIM paths and value lists', () => {
    expect(evaluate(partner(), [LOADERS], POLICY, NOW).desired.map((d) => d.entitlement)).toEqual(['role:analyst_ro', 'role:loader']);
    const finance = partner({ [ENTERPRISE]: { department: 'finance' } }, { organization: 'Umbrella' });
    expect(evaluate(finance, [], POLICY, NOW).desired.map((d) => d.entitlement)).toEqual(['role:analyst_ro']);
    const sales = partner({ [ENTERPRISE]: { department: 'Sales' } }, { organization: 'Umbrella' });
    expect(evaluate(sales, [], POLICY, NOW).desired).toEqual([]);
  });

  it('merges one entitlement reached several ways: every reason kept, the latest end wins', () => {
    const result = evaluate(partner(), [ANALYSTS, LOADERS], POLICY, NOW);
    const ro = result.desired.find((d) => d.entitlement === 'role:analyst_ro')!;
    expect(ro.reasons.map((r) => r.package)).toEqual(['warehouse-analyst', 'warehouse-all']);
    expect(ro.endsAt).toEqual(new Date('2027-01-31T00:00:00Z'));
  });

  it('quarantines a user missing intake attributes, naming them', () => {
    const result = evaluate(partner({}, { sponsor: '', accessEndDate: 'soon' }), [ANALYSTS], POLICY, NOW);
    expect(result).toEqual({ status: 'quarantined', missing: ['sponsor', 'accessEndDate'], desired: [] });
  });

  it('reads intake attributes from where the policy maps them', () => {
    const mapped = policy(`
version: 1
intake:
  required: [organization]
  from: { organization: "${ENTERPRISE}:organization" }
packages:
  p: { entitlements: { c: [e] }, maxDuration: P1D }
rules:
  - when: { user: { organization: Globex } }
    grant: [p]
`);
    const user = userFacts({ id: 'u', userName: 'u', active: true, doc: { [ENTERPRISE]: { organization: 'Globex' } } }, mapped.intake);
    expect(evaluate(user, [], mapped, NOW)).toMatchObject({ status: 'eligible', desired: [{ connector: 'c', entitlement: 'e' }] });
    // The Lanyard extension, when it carries the attribute, comes first.
    const both = userFacts(
      { id: 'u', userName: 'u', active: true, doc: { [ENTERPRISE]: { organization: 'Globex' }, [LANYARD_ACCESS_URN]: { organization: 'Initech' } } },
      mapped.intake,
    );
    expect(both.intake.organization).toBe('Initech');
    expect(evaluate(both, [], mapped, NOW).desired).toEqual([]);
  });

  it('gives nothing to a deactivated user or one whose end date has passed', () => {
    expect(evaluate(partner({}, {}, false), [ANALYSTS], POLICY, NOW)).toEqual({ status: 'inactive', desired: [] });
    expect(evaluate(partner({}, { accessEndDate: '2026-11-01T00:00:00Z' }), [ANALYSTS], POLICY, NOW)).toEqual({ status: 'ended', desired: [] });
  });

  it('is pure: the same inputs give the same answer and nothing is changed', () => {
    const user = partner();
    const groups = [ANALYSTS, SALES, LOADERS];
    const snapshot = JSON.stringify({ groups, POLICY });
    expect(evaluate(user, groups, POLICY, NOW)).toEqual(evaluate(user, groups, POLICY, NOW));
    expect(JSON.stringify({ groups, POLICY })).toBe(snapshot);
  });
});
