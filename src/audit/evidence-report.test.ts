import { describe, expect, it } from 'vitest';
import type { ApprovalEvidence, EvidenceEvent, EvidenceHeader, ExceptionEvidence, GrantEvidence, HoldEvidence, UserEvidence } from './evidence.js';
import {
  addToTotals,
  describeUser,
  emptyTotals,
  evidenceJsonText,
  evidenceText,
  grantFacts,
  grantJson,
  jsonHead,
  jsonTail,
  jsonUsers,
  textTail,
  userJson,
} from './evidence-report.js';

const at = (time: string) => new Date(`2025-03-${time}Z`);
const NOW = at('20T12:00:00.000');

const header: EvidenceHeader = { tenant: { id: 'tenant-1', slug: 'acme', name: 'Acme Corp' }, userName: null, generatedAt: NOW };

let seq = 0;
function event(time: string, action: string, detail: Record<string, unknown> = {}, actor = 'system:reconcile'): EvidenceEvent {
  return { seq: ++seq, at: at(time), action, actor, detail };
}

const loaderRule = { rule: 0, ruleName: 'Partner loaders', package: 'loader', group: { id: 'group-1', displayName: 'Partner Loaders' } };

function grant(overrides: Partial<GrantEvidence> = {}): GrantEvidence {
  return {
    id: 'grant-1',
    userName: 'ann@partner.example',
    connector: 'warehouse',
    entitlement: 'role:loader',
    state: 'active',
    rules: [loaderRule],
    packages: ['loader'],
    policyVersion: 3,
    requestedAt: at('01T09:00:00.000'),
    startedAt: at('01T09:00:02.000'),
    endsAt: at('31T00:00:00.000'),
    endBound: 'user',
    revokeReason: null,
    lastError: null,
    approvals: [],
    exception: null,
    hold: null,
    events: [event('01T09:00:00.100', 'grant.requested'), event('01T09:00:02.100', 'grant.activated')],
    ...overrides,
  };
}

function approval(overrides: Partial<ApprovalEvidence> = {}): ApprovalEvidence {
  return {
    id: 'request-1',
    package: 'loader',
    state: 'approved',
    approvers: { routes: ['sponsor', 'tenant'], sponsor: 'ada@acme.example', tenant: ['lead@acme.example'], msp: [] },
    rules: [loaderRule],
    policyVersion: 3,
    requestedAt: at('01T08:00:00.000'),
    deadline: at('04T08:00:00.000'),
    decidedBy: 'ada@acme.example',
    decidedAt: at('01T08:30:00.000'),
    decisionReason: 'quarterly load',
    endsAt: at('31T08:30:00.000'),
    events: [event('01T08:00:00.000', 'approval.requested'), event('01T08:30:00.000', 'approval.approved', { as: 'sponsor' }, 'approver:ada@acme.example')],
    ...overrides,
  };
}

const hold = (overrides: Partial<HoldEvidence> = {}): HoldEvidence => ({
  id: 'hold-1',
  state: 'pending',
  reason: 'deactivated',
  createdAt: at('10T10:00:00.000'),
  decidedBy: null,
  decidedAt: null,
  decisionReason: null,
  ...overrides,
});

const exception: ExceptionEvidence = {
  id: 'exception-1',
  package: 'admin',
  grantedBy: 'oncall@msp.example',
  reason: 'incident 4711',
  startsAt: at('05T10:00:00.000'),
  endsAt: at('05T14:00:00.000'),
};

function user(overrides: Partial<UserEvidence> = {}): UserEvidence {
  return { userId: 'user-1', userName: 'ann@partner.example', status: 'active', grants: [grant()], requestsWithoutGrant: [], exceptionsWithoutGrant: [], holdsWithoutGrant: [], ...overrides };
}

const lines = (u: UserEvidence) => describeUser(u, NOW).split('\n');

describe('evidence as text', () => {
  it('heads the report with the tenant, the scope and the time, then a block per user with each grant labelled, times in UTC', () => {
    const text = evidenceText({ header, users: [user()] });
    expect(text.split('\n')).toEqual([
      'Access evidence for tenant acme (Acme Corp)',
      'Scope: every user with access on record',
      'Generated 2025-03-20T12:00:00.000Z; all times are UTC.',
      '',
      'ann@partner.example  (user user-1, active in the IdP)',
      '  Grant warehouse role:loader [active]  (grant grant-1)',
      '    Status:     still active, ends 2025-03-31T00:00:00.000Z',
      '    Why:        rules[0] "Partner loaders" → package loader, via group "Partner Loaders" (group-1)',
      '    Policy:     version 3',
      '    Requested:  2025-03-01T09:00:00.000Z',
      '    Started:    2025-03-01T09:00:02.000Z (in place downstream)',
      "    End date:   2025-03-31T00:00:00.000Z, set by the user's access end date from the IdP",
      '    Timeline:   2025-03-01T09:00:00.100Z  requested',
      '                2025-03-01T09:00:02.100Z  activated: in place downstream',
      '',
      '1 user, 1 grant (1 not ended).',
      '',
    ]);
  });

  it('names who approved, as what, when and why, and the request behind it', () => {
    expect(lines(user({ grants: [grant({ approvals: [approval()], endBound: 'approval' })] }))).toEqual(
      expect.arrayContaining([
        '    Approved:   by ada@acme.example (as sponsor) at 2025-03-01T08:30:00.000Z, reason "quarterly load"',
        '                request request-1, made 2025-03-01T08:00:00.000Z, deadline 2025-03-04T08:00:00.000Z; allows access until 2025-03-31T08:30:00.000Z',
        "    End date:   2025-03-31T00:00:00.000Z, set by the approval's end",
      ]),
    );
  });

  it('tells how an ended grant ended: the reason, when revocation was decided and when the access was gone', () => {
    const ended = grant({
      state: 'revoked',
      revokeReason: 'expired',
      endBound: 'package',
      events: [
        event('01T09:00:00.100', 'grant.requested'),
        event('01T09:00:02.100', 'grant.activated'),
        event('15T09:00:00.000', 'grant.shortened', { endsAt: '2025-03-16T00:00:00.000Z', endBound: 'contract' }),
        event('16T00:01:00.000', 'grant.revoking', { reason: 'expired' }),
        event('16T00:01:02.000', 'grant.revoked', { reason: 'expired' }),
      ],
    });
    expect(lines(user({ grants: [ended] }))).toEqual(
      expect.arrayContaining([
        '  Grant warehouse role:loader [revoked]  (grant grant-1)',
        '    Status:     ended 2025-03-16T00:01:02.000Z',
        "    End date:   2025-03-31T00:00:00.000Z, set by the package's maximum duration",
        '    Ended:      expired (it reached its end date)',
        '                revocation decided 2025-03-16T00:01:00.000Z, removed downstream 2025-03-16T00:01:02.000Z',
        "                2025-03-15T09:00:00.000Z  shortened: now ends 2025-03-16T00:00:00.000Z, set by the tenant's contract end",
        '                2025-03-16T00:01:00.000Z  revocation decided: expired',
        '                2025-03-16T00:01:02.000Z  revoked: expired',
      ]),
    );
  });

  it('says when a grant ended before it was ever in place downstream', () => {
    const never = grant({ state: 'revoked', revokeReason: 'policy', startedAt: null, events: [event('01T09:00:00.100', 'grant.requested'), event('01T09:00:01.000', 'grant.revoked', { reason: 'policy' })] });
    expect(lines(user({ grants: [never] }))).toEqual(
      expect.arrayContaining([
        '    Status:     ended 2025-03-01T09:00:01.000Z, never in place downstream',
        '    Started:    never in place downstream',
        '    Ended:      policy (the policy no longer grants it: the user left the group, or the policy changed)',
        '                revoked 2025-03-01T09:00:01.000Z, before it was ever in place downstream',
      ]),
    );
  });

  it('warns when a live grant is past its end and its revocation is due', () => {
    expect(lines(user({ grants: [grant({ endsAt: at('19T00:00:00.000') })] }))).toContain(
      '    Status:     still active; its end 2025-03-19T00:00:00.000Z has passed and revocation is due',
    );
  });

  it('tells a grant the brake holds, and what the operator decided', () => {
    const events = [event('01T09:00:00.100', 'grant.requested'), event('01T09:00:02.100', 'grant.activated'), event('10T10:00:00.100', 'grant.held', { reason: 'deactivated' })];
    const held = grant({ state: 'held', revokeReason: 'deactivated', hold: hold(), events });
    expect(lines(user({ status: 'inactive', grants: [held] }))).toEqual(
      expect.arrayContaining([
        'ann@partner.example  (user user-1, deactivated in the IdP)',
        '    Status:     held by the mass-deprovision brake since 2025-03-10T10:00:00.100Z, still in place downstream',
        '    Brake:      held 2025-03-10T10:00:00.100Z under hold hold-1: deactivated (the user was deactivated in the IdP)',
        '                waiting for an operator to release or reject it',
        '                2025-03-10T10:00:00.100Z  held by the brake: deactivated',
      ]),
    );
    const rejected = grant({
      state: 'active',
      revokeReason: 'deactivated',
      hold: hold({ state: 'rejected', decidedBy: 'ops@msp.example', decidedAt: at('10T11:00:00.000'), decisionReason: 'IdP sync error' }),
      events: [...events, event('10T11:00:01.000', 'grant.restored')],
    });
    expect(lines(user({ grants: [rejected] }))).toEqual(
      expect.arrayContaining([
        '    Status:     still active, ends 2025-03-31T00:00:00.000Z',
        '                rejected by ops@msp.example at 2025-03-10T11:00:00.000Z, reason "IdP sync error": the access was kept',
        '                2025-03-10T11:00:01.000Z  restored: the deprovision was taken back or rejected',
      ]),
    );
    expect(lines(user({ holdsWithoutGrant: [hold({ state: 'withdrawn', decidedBy: 'system:reconcile', decidedAt: at('10T12:00:00.000') })] }))).toEqual(
      expect.arrayContaining([
        '  Brake hold [withdrawn]  (hold hold-1)',
        '    Opened:     2025-03-10T10:00:00.000Z: deactivated (the user was deactivated in the IdP)',
        '    Outcome:    withdrawn at 2025-03-10T12:00:00.000Z: the IdP no longer asked for the deprovision',
      ]),
    );
  });

  it('tells which way a failed grant failed, with the error', () => {
    const failed = grant({
      state: 'failed',
      revokeReason: 'deleted',
      lastError: 'unavailable: connection refused',
      events: [
        event('01T09:00:00.100', 'grant.requested'),
        event('01T09:00:02.100', 'grant.activated'),
        event('12T09:00:00.000', 'grant.revoking', { reason: 'deleted' }),
        event('12T09:05:00.000', 'grant.failed', { error: 'unavailable: connection refused' }),
      ],
    });
    expect(lines(user({ status: 'deleted', grants: [failed] }))).toEqual(
      expect.arrayContaining([
        'ann@partner.example  (user user-1, deleted by the IdP; its records are kept)',
        '    Status:     failed 2025-03-12T09:05:00.000Z while being revoked (it may still be in place downstream): "unavailable: connection refused"',
        '                2025-03-12T09:05:00.000Z  failed: "unavailable: connection refused"',
      ]),
    );
  });

  it('names the emergency exception behind a grant: who granted it, why and until when', () => {
    const emergency = grant({ rules: [], packages: ['admin'], exception, endBound: 'exception', endsAt: exception.endsAt });
    expect(lines(user({ grants: [emergency] }))).toEqual(
      expect.arrayContaining([
        '    Why:        emergency access to package admin (exception exception-1)',
        '    Emergency:  granted by oncall@msp.example at 2025-03-05T10:00:00.000Z, reason "incident 4711", until 2025-03-05T14:00:00.000Z',
        '    End date:   2025-03-05T14:00:00.000Z, set by the end of the emergency access',
      ]),
    );
    expect(lines(user({ grants: [], exceptionsWithoutGrant: [exception] }))).toEqual([
      'ann@partner.example  (user user-1, active in the IdP)',
      '  No grant recorded.',
      '  Emergency access to package admin  (exception exception-1)',
      '    Granted:    by oncall@msp.example at 2025-03-05T10:00:00.000Z, reason "incident 4711", until 2025-03-05T14:00:00.000Z',
      '    Outcome:    no grant was made under it',
      '',
    ]);
  });

  it('lists requests that never became access, each with who decided it, or that nobody did', () => {
    const denied = approval({
      id: 'request-d',
      state: 'denied',
      decidedBy: 'lead@acme.example',
      decisionReason: 'no business need',
      endsAt: null,
      events: [event('01T08:00:00.000', 'approval.requested'), event('01T08:30:00.000', 'approval.denied', { as: 'tenant' }, 'approver:lead@acme.example')],
    });
    const expired = approval({
      id: 'request-e',
      state: 'expired',
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
      endsAt: null,
      events: [event('01T08:00:00.000', 'approval.requested'), event('04T08:01:00.000', 'approval.expired')],
    });
    const cancelled = approval({ id: 'request-c', state: 'cancelled', decidedBy: null, decidedAt: null, decisionReason: null, endsAt: null, events: [event('02T10:00:00.000', 'approval.cancelled')] });
    const pending = approval({ id: 'request-p', state: 'pending', decidedBy: null, decidedAt: null, decisionReason: null, endsAt: null, deadline: at('22T08:00:00.000'), events: [] });
    const text = lines(user({ grants: [], requestsWithoutGrant: [denied, expired, cancelled, pending] }));
    expect(text).toEqual(
      expect.arrayContaining([
        '  No grant recorded.',
        '  Request for package loader [denied]  (request request-d)',
        '    Why:        rules[0] "Partner loaders" → package loader, via group "Partner Loaders" (group-1)',
        '    Policy:     version 3',
        '    Requested:  2025-03-01T08:00:00.000Z, deadline 2025-03-04T08:00:00.000Z',
        '    Approvers:  sponsor ada@acme.example; tenant lead@acme.example',
        '    Outcome:    denied by lead@acme.example (as tenant) at 2025-03-01T08:30:00.000Z, reason "no business need"; no access was granted under it',
        '    Outcome:    expired: nobody decided by the deadline 2025-03-04T08:00:00.000Z (recorded 2025-03-04T08:01:00.000Z); no access was granted under it',
        '    Outcome:    cancelled 2025-03-02T10:00:00.000Z: the need went away before anyone decided; no access was granted under it',
        '    Outcome:    awaiting a decision; deadline 2025-03-22T08:00:00.000Z; no access was granted under it',
      ]),
    );
  });

  it('escapes what was recorded, so no reason or name can pass for a line of the report', () => {
    const forged = approval({ decisionReason: 'ok"\n    Approved:   by nobody', decidedBy: 'eve\nmallory' });
    const text = describeUser(user({ userName: 'ann\n  Grant forged', grants: [grant({ approvals: [forged] })] }), NOW);
    expect(text).toContain('ann\\n  Grant forged  (user user-1');
    expect(text).toContain('by eve\\nmallory (as sponsor) at 2025-03-01T08:30:00.000Z, reason "ok\\"\\n    Approved:   by nobody"');
    expect(text.split('\n').filter((l) => l.includes('Approved:'))).toHaveLength(1);
  });

  it('says so explicitly when nothing is on record, for a tenant and for one user', () => {
    expect(evidenceText({ header, users: [] }).trimEnd().split('\n').at(-1)).toBe('No access recorded for tenant acme: no grants, requests, emergency access or holds.');
    expect(textTail({ ...header, userName: 'ann@partner.example' }, emptyTotals())).toBe('No access recorded for user "ann@partner.example" in tenant acme.\n');
  });

  it('sums up users, grants and what never became access', () => {
    const users = [user(), user({ userId: 'user-2', grants: [grant({ state: 'revoked' }), grant()], requestsWithoutGrant: [approval({ state: 'denied' }), approval({ state: 'expired' })] })];
    expect(textTail(header, addToTotals(emptyTotals(), users))).toBe('2 users, 3 grants (2 not ended), 2 requests that never became access.\n');
  });
});

describe('evidence as JSON', () => {
  it('gives every fact of a grant under a stable name, times as ISO strings, with the timeline', () => {
    const events = [
      event('01T09:00:00.100', 'grant.requested', { approval: 'request-1' }),
      event('01T09:00:02.100', 'grant.activated'),
      event('10T10:00:00.100', 'grant.held', { reason: 'deactivated' }),
      event('10T12:00:00.000', 'grant.revoking', { reason: 'deactivated' }),
      event('10T12:00:01.000', 'grant.revoked', { reason: 'deactivated' }),
    ];
    const released = hold({ state: 'released', decidedBy: 'ops@msp.example', decidedAt: at('10T11:59:00.000'), decisionReason: 'confirmed' });
    expect(grantJson(grant({ state: 'revoked', revokeReason: 'deactivated', approvals: [approval()], hold: released, events }))).toEqual({
      id: 'grant-1',
      connector: 'warehouse',
      entitlement: 'role:loader',
      state: 'revoked',
      ended: true,
      userName: 'ann@partner.example',
      rules: [loaderRule],
      packages: ['loader'],
      policyVersion: 3,
      requestedAt: '2025-03-01T09:00:00.000Z',
      startedAt: '2025-03-01T09:00:02.000Z',
      endsAt: '2025-03-31T00:00:00.000Z',
      endBound: 'user',
      heldAt: '2025-03-10T10:00:00.100Z',
      revokeReason: 'deactivated',
      revokeDecidedAt: '2025-03-10T12:00:00.000Z',
      revokedAt: '2025-03-10T12:00:01.000Z',
      failedAt: null,
      lastError: null,
      approvals: [
        {
          id: 'request-1',
          package: 'loader',
          state: 'approved',
          stateSince: '2025-03-01T08:30:00.000Z',
          rules: [loaderRule],
          policyVersion: 3,
          approvers: { routes: ['sponsor', 'tenant'], sponsor: 'ada@acme.example', tenant: ['lead@acme.example'], msp: [] },
          requestedAt: '2025-03-01T08:00:00.000Z',
          deadline: '2025-03-04T08:00:00.000Z',
          decidedBy: 'ada@acme.example',
          decidedAs: 'sponsor',
          decidedAt: '2025-03-01T08:30:00.000Z',
          decisionReason: 'quarterly load',
          endsAt: '2025-03-31T08:30:00.000Z',
          timeline: [
            { seq: expect.any(Number), at: '2025-03-01T08:00:00.000Z', action: 'approval.requested', actor: 'system:reconcile', detail: {} },
            { seq: expect.any(Number), at: '2025-03-01T08:30:00.000Z', action: 'approval.approved', actor: 'approver:ada@acme.example', detail: { as: 'sponsor' } },
          ],
        },
      ],
      exception: null,
      hold: { id: 'hold-1', state: 'released', reason: 'deactivated', createdAt: '2025-03-10T10:00:00.000Z', decidedBy: 'ops@msp.example', decidedAt: '2025-03-10T11:59:00.000Z', decisionReason: 'confirmed' },
      timeline: events.map((e) => ({ seq: e.seq, at: e.at.toISOString(), action: e.action, actor: e.actor, detail: e.detail })),
    });
  });

  it('gives no revoke reason for a grant the brake held and then gave back: its access did not end', () => {
    const restored = grant({ revokeReason: 'deactivated', events: [event('01T09:00:00.100', 'grant.requested'), event('10T10:00:00.000', 'grant.held', { reason: 'deactivated' }), event('10T11:00:00.000', 'grant.restored')] });
    expect(grantJson(restored)).toEqual(expect.objectContaining({ state: 'active', ended: false, revokeReason: null, revokeDecidedAt: null, revokedAt: null, heldAt: '2025-03-10T10:00:00.000Z' }));
  });

  it('tells a failure on the way in from one on the way out, also after a retry', () => {
    const base = [event('01T09:00:00.100', 'grant.requested')];
    expect(grantFacts(grant({ state: 'failed', events: [...base, event('01T09:01:00.000', 'grant.failed')] })).failedWhile).toBe('provisioning');
    const retriedOut = [...base, event('02T09:00:00.000', 'grant.revoking'), event('02T09:01:00.000', 'grant.failed'), event('03T09:00:00.000', 'grant.retried', { state: 'revoking' }), event('03T09:01:00.000', 'grant.failed')];
    const facts = grantFacts(grant({ state: 'failed', revokeReason: 'deleted', events: retriedOut }));
    expect(facts).toEqual(expect.objectContaining({ failedWhile: 'revoking', failedAt: at('03T09:01:00.000'), revokeReason: 'deleted', revokedAt: null }));
  });

  it('streams as pieces that make one document, the same as the report built whole', () => {
    const ann = user();
    const bob = user({ userId: 'user-2', userName: 'bob@partner.example', grants: [], requestsWithoutGrant: [approval({ state: 'denied' })] });
    const totals = addToTotals(addToTotals(emptyTotals(), [ann]), [bob]);
    const streamed = jsonHead(header) + jsonUsers([ann], true) + jsonUsers([], false) + jsonUsers([bob], false) + jsonTail(totals);
    expect(streamed).toBe(evidenceJsonText({ header, users: [ann, bob] }));
    expect(streamed.endsWith('\n')).toBe(true);
    expect(JSON.parse(streamed)).toEqual({
      tenant: { id: 'tenant-1', slug: 'acme', name: 'Acme Corp' },
      user: null,
      generatedAt: '2025-03-20T12:00:00.000Z',
      users: [userJson(ann), userJson(bob)].map((u) => JSON.parse(JSON.stringify(u)) as unknown),
      totals: { users: 2, grants: 1, grantsNotEnded: 1, requestsWithoutGrant: 1, exceptionsWithoutGrant: 0 },
    });
    expect(JSON.parse(evidenceJsonText({ header: { ...header, userName: 'nobody' }, users: [] }))).toEqual(expect.objectContaining({ user: 'nobody', users: [] }));
  });
});
