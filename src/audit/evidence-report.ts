import type { EndBound } from '../policy/evaluate.js';
import type { RevokeReason } from '../policy/grant-state.js';
import type { ApprovalEvidence, EvidenceEvent, EvidenceHeader, ExceptionEvidence, GrantEvidence, HoldEvidence, RuleReason, UserEvidence } from './evidence.js';

/**
 * The evidence report, as text for a person and as JSON for a tool. Pure: records in, strings out. Both are
 * written in pieces (head, one user at a time, tail) so a report of any size streams; the pieces of the
 * JSON concatenate to one document. Every time is ISO 8601 in UTC; every free text (reasons, names, errors)
 * is quoted or escaped, so nothing recorded can pass for a line of the report.
 */

export interface EvidenceReport {
  header: EvidenceHeader;
  users: UserEvidence[];
}

export interface EvidenceTotals {
  users: number;
  grants: number;
  /** Grants not revoked: in place, on their way in or out, held or failed. */
  grantsNotEnded: number;
  requestsWithoutGrant: number;
  exceptionsWithoutGrant: number;
}

export function emptyTotals(): EvidenceTotals {
  return { users: 0, grants: 0, grantsNotEnded: 0, requestsWithoutGrant: 0, exceptionsWithoutGrant: 0 };
}

export function addToTotals(totals: EvidenceTotals, users: readonly UserEvidence[]): EvidenceTotals {
  for (const u of users) {
    totals.users += 1;
    totals.grants += u.grants.length;
    totals.grantsNotEnded += u.grants.filter((g) => g.state !== 'revoked').length;
    totals.requestsWithoutGrant += u.requestsWithoutGrant.length;
    totals.exceptionsWithoutGrant += u.exceptionsWithoutGrant.length;
  }
  return totals;
}

// ─── What the events say ────────────────────────────────────────────────────────────────────────────────

/** What a grant's audit events add to its row: when each transition happened, and which way it failed. */
export interface GrantFacts {
  /** The latest move to `held`. */
  heldAt: Date | null;
  /** When revocation was decided (the latest `grant.revoking`, or `grant.revoked` for a grant never provisioned). */
  revokeDecidedAt: Date | null;
  /** When the access was gone downstream (`grant.revoked`). */
  revokedAt: Date | null;
  /** The reason the grant ended, is ending or is held; null while the grant is (again) wanted. */
  revokeReason: string | null;
  failedAt: Date | null;
  /** A failed grant failed on its way in or on its way out. */
  failedWhile: 'provisioning' | 'revoking' | null;
}

const lastAt = (events: readonly EvidenceEvent[], action: string) => events.findLast((e) => e.action === action)?.at ?? null;

export function grantFacts(g: GrantEvidence): GrantFacts {
  const revokedAt = lastAt(g.events, 'grant.revoked');
  const revokeDecidedAt = lastAt(g.events, 'grant.revoking') ?? revokedAt;
  // The move before the failure says which way the grant was going.
  const before = g.events.findLast((e) => e.action !== 'grant.failed' && e.action !== 'grant.extended' && e.action !== 'grant.shortened');
  const failedWhile =
    g.state !== 'failed' ? null : before?.action === 'grant.revoking' || (before?.action === 'grant.retried' && before.detail['state'] === 'revoking') ? 'revoking' : 'provisioning';
  const ending = g.state === 'revoking' || g.state === 'revoked' || g.state === 'held' || failedWhile === 'revoking';
  return {
    heldAt: lastAt(g.events, 'grant.held'),
    revokeDecidedAt,
    revokedAt,
    revokeReason: ending ? g.revokeReason : null,
    failedAt: g.state === 'failed' ? lastAt(g.events, 'grant.failed') : null,
    failedWhile,
  };
}

const CLOSING_ACTIONS: Partial<Record<ApprovalEvidence['state'], string>> = { expired: 'approval.expired', cancelled: 'approval.cancelled', closed: 'approval.closed' };

/** When a request reached its state: its decision, or the event that expired, cancelled or closed it. */
export function approvalStateSince(a: ApprovalEvidence): Date | null {
  if (a.state === 'pending') return null;
  if (a.state === 'approved' || a.state === 'denied') return a.decidedAt ?? lastAt(a.events, `approval.${a.state}`);
  return lastAt(a.events, CLOSING_ACTIONS[a.state]!);
}

/** The route the decider came by (sponsor, tenant, msp), as recorded in the decision's event. */
export function approvalDecidedAs(a: ApprovalEvidence): string | null {
  const decision = a.events.findLast((e) => e.action === 'approval.approved' || e.action === 'approval.denied');
  return typeof decision?.detail['as'] === 'string' ? decision.detail['as'] : null;
}

// ─── JSON ───────────────────────────────────────────────────────────────────────────────────────────────

const iso = (d: Date | null) => d?.toISOString() ?? null;

function timelineJson(events: readonly EvidenceEvent[]) {
  return events.map((e) => ({ seq: e.seq, at: e.at.toISOString(), action: e.action, actor: e.actor, detail: e.detail }));
}

function rulesJson(rules: readonly RuleReason[]) {
  return rules.map((r) => ({ rule: r.rule, ruleName: r.ruleName, package: r.package, group: r.group ? { id: r.group.id, displayName: r.group.displayName } : null }));
}

export function approvalJson(a: ApprovalEvidence) {
  return {
    id: a.id,
    package: a.package,
    state: a.state,
    stateSince: iso(approvalStateSince(a)),
    rules: rulesJson(a.rules),
    policyVersion: a.policyVersion,
    approvers: { routes: a.approvers.routes, sponsor: a.approvers.sponsor, tenant: a.approvers.tenant, msp: a.approvers.msp },
    requestedAt: a.requestedAt.toISOString(),
    deadline: a.deadline.toISOString(),
    decidedBy: a.decidedBy,
    decidedAs: approvalDecidedAs(a),
    decidedAt: iso(a.decidedAt),
    decisionReason: a.decisionReason,
    endsAt: iso(a.endsAt),
    timeline: timelineJson(a.events),
  };
}

export function exceptionJson(x: ExceptionEvidence) {
  return { id: x.id, package: x.package, grantedBy: x.grantedBy, reason: x.reason, startsAt: x.startsAt.toISOString(), endsAt: x.endsAt.toISOString() };
}

export function holdJson(h: HoldEvidence) {
  return { id: h.id, state: h.state, reason: h.reason, createdAt: h.createdAt.toISOString(), decidedBy: h.decidedBy, decidedAt: iso(h.decidedAt), decisionReason: h.decisionReason };
}

export function grantJson(g: GrantEvidence) {
  const facts = grantFacts(g);
  return {
    id: g.id,
    connector: g.connector,
    entitlement: g.entitlement,
    state: g.state,
    ended: g.state === 'revoked',
    userName: g.userName,
    rules: rulesJson(g.rules),
    packages: g.packages,
    policyVersion: g.policyVersion,
    requestedAt: g.requestedAt.toISOString(),
    startedAt: iso(g.startedAt),
    endsAt: iso(g.endsAt),
    endBound: g.endBound,
    heldAt: iso(facts.heldAt),
    revokeReason: facts.revokeReason,
    revokeDecidedAt: iso(facts.revokeDecidedAt),
    revokedAt: iso(facts.revokedAt),
    failedAt: iso(facts.failedAt),
    lastError: g.lastError,
    approvals: g.approvals.map(approvalJson),
    exception: g.exception ? exceptionJson(g.exception) : null,
    hold: g.hold ? holdJson(g.hold) : null,
    timeline: timelineJson(g.events),
  };
}

export function userJson(u: UserEvidence) {
  return {
    userId: u.userId,
    userName: u.userName,
    status: u.status,
    grants: u.grants.map(grantJson),
    requestsWithoutGrant: u.requestsWithoutGrant.map(approvalJson),
    exceptionsWithoutGrant: u.exceptionsWithoutGrant.map(exceptionJson),
    holdsWithoutGrant: u.holdsWithoutGrant.map(holdJson),
  };
}

/** The JSON document up to its list of users: `{"tenant":…,"user":…,"generatedAt":…,"users":[`. */
export function jsonHead(header: EvidenceHeader): string {
  const head = JSON.stringify({ tenant: header.tenant, user: header.userName, generatedAt: header.generatedAt.toISOString(), users: [] });
  return head.slice(0, -2);
}

/** One batch of users, as elements of the document's `users` array; `first` says whether any came before. */
export function jsonUsers(users: readonly UserEvidence[], first: boolean): string {
  if (users.length === 0) return '';
  return (first ? '' : ',') + users.map((u) => JSON.stringify(userJson(u))).join(',');
}

export function jsonTail(totals: EvidenceTotals): string {
  return `],"totals":${JSON.stringify(totals)}}\n`;
}

export function evidenceJsonText(report: EvidenceReport): string {
  return jsonHead(report.header) + jsonUsers(report.users, true) + jsonTail(addToTotals(emptyTotals(), report.users));
}

// ─── Text ───────────────────────────────────────────────────────────────────────────────────────────────

const END_BOUNDS: Record<EndBound, string> = {
  package: "the package's maximum duration",
  user: "the user's access end date from the IdP",
  contract: "the tenant's contract end",
  approval: "the approval's end",
  exception: 'the end of the emergency access',
};

const REVOKE_REASONS: Record<RevokeReason, string> = {
  policy: 'the policy no longer grants it: the user left the group, or the policy changed',
  deactivated: 'the user was deactivated in the IdP',
  deleted: 'the user was deleted in the IdP',
  quarantined: 'the user lacks required intake attributes',
  expired: 'it reached its end date',
  sponsor_removed: "the user's sponsor is gone",
  inactive: 'the access went unused for too long',
  denied: 'the approval was denied',
  operator: 'an operator ended it',
  offboarded: 'the tenant was offboarded',
};

const LABEL = 12;
const INDENT = '    ';

/** Names and ids as recorded, with control characters escaped: one record is never two lines. */
function safe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Free text (reasons, errors), quoted. */
const quote = (text: string) => JSON.stringify(text);
const at = (d: Date | null) => d?.toISOString() ?? 'at a time not recorded';

function reasonText(reason: string): string {
  const why = (REVOKE_REASONS as Record<string, string | undefined>)[reason];
  return why ? `${safe(reason)} (${why})` : safe(reason);
}

function boundText(bound: string | null): string {
  const what = bound ? (END_BOUNDS as Record<string, string | undefined>)[bound] : undefined;
  return what ? `set by ${what}` : bound ? `set by ${safe(bound)}` : 'what set it is not recorded';
}

/** `Label:     first line`, further lines aligned under the first. */
function field(label: string, ...lines: string[]): string[] {
  return lines.map((line, i) => `${INDENT}${(i === 0 ? `${label}:` : '').padEnd(LABEL)}${line}`);
}

function ruleText(r: RuleReason): string {
  const rule = `rules[${r.rule}]${r.ruleName ? ` ${quote(r.ruleName)}` : ''}`;
  const pkg = r.package ? ` → package ${safe(r.package)}` : '';
  const group = r.group ? `, via group ${quote(r.group.displayName)} (${safe(r.group.id)})` : ', no group';
  return `${rule}${pkg}${group}`;
}

const decider = (a: ApprovalEvidence) => {
  const as = approvalDecidedAs(a);
  return `${safe(a.decidedBy ?? 'someone not recorded')}${as ? ` (as ${safe(as)})` : ''}`;
};

const withReason = (reason: string | null) => (reason ? `, reason ${quote(reason)}` : ', no reason given');

function approversText(a: ApprovalEvidence): string {
  const parts = [
    ...(a.approvers.sponsor ? [`sponsor ${safe(a.approvers.sponsor)}`] : []),
    ...(a.approvers.tenant.length ? [`tenant ${a.approvers.tenant.map(safe).join(', ')}`] : []),
    ...(a.approvers.msp.length ? [`msp ${a.approvers.msp.map(safe).join(', ')}`] : []),
  ];
  return parts.length ? parts.join('; ') : 'none resolved';
}

/** What became of a request, in one line. */
function outcomeText(a: ApprovalEvidence, now: Date): string {
  const since = approvalStateSince(a);
  switch (a.state) {
    case 'pending':
      return `awaiting a decision; deadline ${a.deadline.toISOString()}${a.deadline <= now ? ' (passed; it expires at the next lifecycle run)' : ''}`;
    case 'approved':
      return `approved by ${decider(a)} at ${at(a.decidedAt)}${withReason(a.decisionReason)}${a.endsAt ? `; allows access until ${a.endsAt.toISOString()}` : ''}`;
    case 'denied':
      return `denied by ${decider(a)} at ${at(a.decidedAt)}${withReason(a.decisionReason)}`;
    case 'expired':
      return `expired: nobody decided by the deadline ${a.deadline.toISOString()} (recorded ${at(since)})`;
    case 'cancelled':
      return `cancelled ${at(since)}: the need went away before anyone decided`;
    case 'closed':
      return `closed ${at(since)}: the need ended`;
  }
}

function holdOutcome(h: HoldEvidence): string {
  switch (h.state) {
    case 'pending':
      return 'waiting for an operator to release or reject it';
    case 'released':
      return `released by ${safe(h.decidedBy ?? 'someone not recorded')} at ${at(h.decidedAt)}${withReason(h.decisionReason)}: the access was to be revoked`;
    case 'rejected':
      return `rejected by ${safe(h.decidedBy ?? 'someone not recorded')} at ${at(h.decidedAt)}${withReason(h.decisionReason)}: the access was kept`;
    case 'withdrawn':
      return `withdrawn at ${at(h.decidedAt)}: the IdP no longer asked for the deprovision`;
  }
}

function statusText(g: GrantEvidence, facts: GrantFacts, now: Date): string {
  switch (g.state) {
    case 'active':
      if (g.endsAt && g.endsAt <= now) return `still active; its end ${g.endsAt.toISOString()} has passed and revocation is due`;
      return g.endsAt ? `still active, ends ${g.endsAt.toISOString()}` : 'still active, no end date recorded';
    case 'provisioning':
      return 'being provisioned, not yet in place downstream';
    case 'requested':
    case 'awaiting_approval':
      return 'requested, not yet provisioned';
    case 'held':
      return `held by the mass-deprovision brake since ${at(facts.heldAt)}, still in place downstream`;
    case 'revoking':
      return `being revoked since ${at(facts.revokeDecidedAt)}: ${reasonText(facts.revokeReason ?? 'reason not recorded')}; in place downstream until that completes`;
    case 'revoked':
      return `ended ${at(facts.revokedAt)}${g.startedAt ? '' : ', never in place downstream'}`;
    case 'failed':
      return `failed ${at(facts.failedAt)} while ${facts.failedWhile === 'revoking' ? 'being revoked (it may still be in place downstream)' : 'being provisioned'}: ${quote(g.lastError ?? 'no error recorded')}`;
    default:
      return safe(g.state);
  }
}

/** One event of a grant's life, compactly. */
function eventText(e: EvidenceEvent): string {
  const d = e.detail;
  const str = (key: string) => (typeof d[key] === 'string' ? safe(d[key]) : null);
  let what: string;
  switch (e.action) {
    case 'grant.requested':
      what = 'requested';
      break;
    case 'grant.activated':
      what = 'activated: in place downstream';
      break;
    case 'grant.extended':
    case 'grant.shortened':
      what = `${e.action === 'grant.extended' ? 'extended' : 'shortened'}: now ends ${str('endsAt') ?? '?'}${str('endBound') ? `, ${boundText(str('endBound'))}` : ''}`;
      break;
    case 'grant.held':
      what = `held by the brake: ${str('reason') ?? 'reason not recorded'}`;
      break;
    case 'grant.restored':
      what = 'restored: the deprovision was taken back or rejected';
      break;
    case 'grant.revoking':
      what = `revocation decided: ${str('reason') ?? 'reason not recorded'}`;
      break;
    case 'grant.revoked':
      what = `revoked: ${str('reason') ?? 'reason not recorded'}`;
      break;
    case 'grant.failed':
      what = `failed: ${typeof d['error'] === 'string' ? quote(d['error']) : 'no error recorded'}`;
      break;
    case 'grant.retried':
      what = `retried${str('state') ? ` (${str('state')})` : ''}`;
      break;
    default:
      what = safe(e.action);
  }
  // Lanyard's own moves need no name; a person's do.
  const by = e.actor.startsWith('system:') ? '' : ` (by ${safe(e.actor)})`;
  return `${e.at.toISOString()}  ${what}${by}`;
}

function grantBlock(g: GrantEvidence, user: UserEvidence, now: Date): string[] {
  const facts = grantFacts(g);
  const lines = [`  Grant ${safe(g.connector)} ${safe(g.entitlement)} [${safe(g.state)}]  (grant ${safe(g.id)})`];
  lines.push(...field('Status', statusText(g, facts, now)));
  const why = [...g.rules.map(ruleText), ...(g.exception ? [`emergency access to package ${safe(g.exception.package)} (exception ${safe(g.exception.id)})`] : [])];
  lines.push(...field('Why', ...(why.length ? why : ['no rule or exception recorded'])));
  lines.push(...field('Policy', g.policyVersion === null ? 'no policy version recorded' : `version ${g.policyVersion}`));
  if (g.userName.toLowerCase() !== user.userName.toLowerCase()) lines.push(...field('Granted to', `${safe(g.userName)} (the user's name at the time)`));
  lines.push(...field('Requested', g.requestedAt.toISOString()));
  g.approvals.forEach((a, i) => {
    lines.push(
      ...field(
        i === 0 ? 'Approved' : 'Renewed',
        a.state === 'approved' || a.state === 'closed' ? `by ${decider(a)} at ${at(a.decidedAt)}${withReason(a.decisionReason)}` : outcomeText(a, now),
        `request ${safe(a.id)}, made ${a.requestedAt.toISOString()}, deadline ${a.deadline.toISOString()}${a.endsAt ? `; allows access until ${a.endsAt.toISOString()}` : ''}`,
      ),
    );
  });
  if (g.exception) {
    const x = g.exception;
    lines.push(...field('Emergency', `granted by ${safe(x.grantedBy)} at ${x.startsAt.toISOString()}, reason ${quote(x.reason)}, until ${x.endsAt.toISOString()}`));
  }
  lines.push(...field('Started', g.startedAt ? `${g.startedAt.toISOString()} (in place downstream)` : 'never in place downstream'));
  lines.push(...field('End date', g.endsAt ? `${g.endsAt.toISOString()}, ${boundText(g.endBound)}` : 'none recorded'));
  if (g.hold) {
    const h = g.hold;
    lines.push(...field('Brake', `held ${at(facts.heldAt ?? h.createdAt)} under hold ${safe(h.id)}: ${reasonText(h.reason)}`, holdOutcome(h)));
  }
  if (g.state === 'revoked') {
    const when = g.startedAt ? `revocation decided ${at(facts.revokeDecidedAt)}, removed downstream ${at(facts.revokedAt)}` : `revoked ${at(facts.revokedAt)}, before it was ever in place downstream`;
    lines.push(...field('Ended', reasonText(facts.revokeReason ?? 'reason not recorded'), when));
  }
  lines.push(...field('Timeline', ...(g.events.length ? g.events.map(eventText) : ['no events recorded'])));
  return lines;
}

function requestBlock(a: ApprovalEvidence, now: Date): string[] {
  return [
    `  Request for package ${safe(a.package)} [${a.state}]  (request ${safe(a.id)})`,
    ...field('Why', ...(a.rules.length ? a.rules.map(ruleText) : ['no rule recorded'])),
    ...field('Policy', a.policyVersion === null ? 'no policy version recorded' : `version ${a.policyVersion}`),
    ...field('Requested', `${a.requestedAt.toISOString()}, deadline ${a.deadline.toISOString()}`),
    ...field('Approvers', approversText(a)),
    ...field('Outcome', `${outcomeText(a, now)}; no access was granted under it`),
  ];
}

function exceptionBlock(x: ExceptionEvidence): string[] {
  return [
    `  Emergency access to package ${safe(x.package)}  (exception ${safe(x.id)})`,
    ...field('Granted', `by ${safe(x.grantedBy)} at ${x.startsAt.toISOString()}, reason ${quote(x.reason)}, until ${x.endsAt.toISOString()}`),
    ...field('Outcome', 'no grant was made under it'),
  ];
}

function holdBlock(h: HoldEvidence): string[] {
  return [`  Brake hold [${h.state}]  (hold ${safe(h.id)})`, ...field('Opened', `${h.createdAt.toISOString()}: ${reasonText(h.reason)}`), ...field('Outcome', holdOutcome(h))];
}

const USER_STATUS: Record<UserEvidence['status'], string> = {
  active: 'active in the IdP',
  inactive: 'deactivated in the IdP',
  deleted: 'deleted by the IdP; its records are kept',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function textHead(header: EvidenceHeader): string {
  return [
    `Access evidence for tenant ${safe(header.tenant.slug)} (${safe(header.tenant.name)})`,
    `Scope: ${header.userName === null ? 'every user with access on record' : `user ${quote(header.userName)}`}`,
    `Generated ${header.generatedAt.toISOString()}; all times are UTC.`,
  ].join('\n') + '\n\n';
}

/** One user's block: the user, each grant in the order it was requested, then what never became access. */
export function describeUser(u: UserEvidence, now: Date): string {
  const lines = [`${safe(u.userName)}  (user ${safe(u.userId)}, ${USER_STATUS[u.status]})`];
  const blocks: string[][] = [
    ...u.grants.map((g) => grantBlock(g, u, now)),
    ...u.requestsWithoutGrant.map((a) => requestBlock(a, now)),
    ...u.exceptionsWithoutGrant.map(exceptionBlock),
    ...u.holdsWithoutGrant.map(holdBlock),
  ];
  if (u.grants.length === 0) lines.push('  No grant recorded.');
  for (const block of blocks) lines.push(...block);
  return `${lines.join('\n')}\n`;
}

export function textUsers(users: readonly UserEvidence[], now: Date): string {
  return users.map((u) => `${describeUser(u, now)}\n`).join('');
}

export function textTail(header: EvidenceHeader, totals: EvidenceTotals): string {
  if (totals.users === 0) {
    return header.userName === null
      ? `No access recorded for tenant ${safe(header.tenant.slug)}: no grants, requests, emergency access or holds.\n`
      : `No access recorded for user ${quote(header.userName)} in tenant ${safe(header.tenant.slug)}.\n`;
  }
  const extras = [
    ...(totals.requestsWithoutGrant ? [`${plural(totals.requestsWithoutGrant, 'request')} that never became access`] : []),
    ...(totals.exceptionsWithoutGrant ? [`${plural(totals.exceptionsWithoutGrant, 'emergency access', 'emergency accesses')} without a grant`] : []),
  ];
  return `${plural(totals.users, 'user')}, ${plural(totals.grants, 'grant')} (${totals.grantsNotEnded} not ended)${extras.length ? `, ${extras.join(', ')}` : ''}.\n`;
}

export function evidenceText(report: EvidenceReport): string {
  return textHead(report.header) + textUsers(report.users, report.header.generatedAt) + textTail(report.header, addToTotals(emptyTotals(), report.users));
}
