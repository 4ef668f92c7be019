import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';
import { DomainError } from '../errors/domain-error.js';
import type { ListedApproval } from '../approvals/approval-service.js';
import type { ListedException } from '../approvals/exception-service.js';
import type { ApprovalRecord } from '../store/approvals-store.js';
import type { HoldRecord } from '../store/holds-store.js';
import type { Runtime } from '../runtime.js';
import { type Output, print } from './output.js';

/** What the lifecycle commands borrow from the program that registers them. */
export interface LifecycleCommandHelpers {
  withRuntime(out: Output, work: (rt: Runtime) => Promise<void>): Promise<void>;
  operatorActor(): string;
}

const INSTANT_EXPECTED = 'expected a date (2027-06-30) or a date-time with offset (2027-06-30T17:00Z)';

/** An instant on the command line: a date (midnight UTC) or a date-time with its offset; null if neither. */
export function parseInstant(value: string): Date | null {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? null : new Date(ms);
}

function instantOption(value: string): Date {
  const at = parseInstant(value);
  if (!at) throw new InvalidArgumentError(INSTANT_EXPECTED);
  return at;
}

/** The same, for a positional argument: refused as invalid input, naming what was expected. */
export function requireInstant(name: string, value: string): Date {
  const at = parseInstant(value);
  if (!at) throw new DomainError('invalid_input', `${name}: ${INSTANT_EXPECTED}, got "${value.slice(0, 64)}"`);
  return at;
}

function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError('expected a duration such as 4h or 90m');
  return ms;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function approvalJson(a: ApprovalRecord & { tenant?: string }) {
  return {
    id: a.id,
    ...(a.tenant ? { tenant: a.tenant } : {}),
    user: a.userName,
    package: a.package,
    state: a.state,
    approvers: a.approvers,
    requestedAt: iso(a.requestedAt),
    deadline: iso(a.deadline),
    decidedBy: a.decidedBy,
    decidedAt: iso(a.decidedAt),
    reason: a.decisionReason,
    endsAt: iso(a.endsAt),
  };
}

function approvalLine(a: ListedApproval): string {
  const decided = a.decidedBy ? ` by ${a.decidedBy} at ${iso(a.decidedAt)}` : ` deadline ${iso(a.deadline)}`;
  return `${a.id}\t${a.tenant}\t${a.userName}\t${a.package}\t${a.state}${decided}`;
}

function exceptionJson(x: ListedException) {
  return { id: x.id, tenant: x.tenant, user: x.userName, package: x.package, grantedBy: x.grantedBy, reason: x.reason, startsAt: iso(x.startsAt), endsAt: iso(x.endsAt), active: x.active };
}

function holdJson(h: HoldRecord & { tenant?: string }) {
  return { id: h.id, ...(h.tenant ? { tenant: h.tenant } : {}), user: h.userName, reason: h.reason, state: h.state, createdAt: iso(h.createdAt), decidedBy: h.decidedBy, decidedAt: iso(h.decidedAt), decisionReason: h.decisionReason };
}

export function registerLifecycleCommands(program: Command, helpers: LifecycleCommandHelpers): void {
  const { withRuntime } = helpers;
  const approvals = program.command('approvals').description('requests for access packages that need approval');
  approvals
    .command('list [slug]')
    .description('list approval requests, newest first, of one tenant or all')
    .option('--pending', 'only those waiting for a decision')
    .option('--json', 'print JSON')
    .action((slug: string | undefined, opts: { pending?: boolean; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.approvals.list(slug, { pendingOnly: Boolean(opts.pending) });
        print({ json: Boolean(opts.json) }, list.length ? list.map(approvalLine).join('\n') : 'no approval requests', list.map(approvalJson));
      }),
    );
  approvals
    .command('approve <id>')
    .description('approve a request: the user is provisioned, until the package maximum (or --until)')
    .requiredOption('--by <approver>', 'who approves (must be an approver of the request, never the user)')
    .option('--reason <text>', 'why')
    .option('--until <date>', 'end the access earlier than the package allows', instantOption)
    .option('--json', 'print JSON')
    .action((id: string, opts: { by: string; reason?: string; until?: Date; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const decided = await rt.approvals.approve(id, { by: opts.by, reason: opts.reason, until: opts.until });
        print({ json: Boolean(opts.json) }, `approved ${decided.package} for ${decided.userName} until ${iso(decided.endsAt)}`, approvalJson(decided));
      }),
    );
  approvals
    .command('deny <id>')
    .description('deny a request: nothing is granted, and the reason is recorded')
    .requiredOption('--by <approver>', 'who denies (must be an approver of the request)')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action((id: string, opts: { by: string; reason: string; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const decided = await rt.approvals.deny(id, { by: opts.by, reason: opts.reason });
        print({ json: Boolean(opts.json) }, `denied ${decided.package} for ${decided.userName}`, approvalJson(decided));
      }),
    );

  const holds = program.command('holds').description('deprovisions held by the mass-deprovision brake, waiting for an operator');
  holds
    .command('list [slug]')
    .description('list holds, newest first, of one tenant or all')
    .option('--pending', 'only those waiting for a decision')
    .option('--json', 'print JSON')
    .action((slug: string | undefined, opts: { pending?: boolean; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.holds.list(slug, { pendingOnly: Boolean(opts.pending) });
        const human = list.length ? list.map((h) => `${h.id}\t${h.tenant}\t${h.userName}\t${h.reason}\t${h.state}\t${iso(h.createdAt)}`).join('\n') : 'no holds';
        print({ json: Boolean(opts.json) }, human, list.map(holdJson));
      }),
    );
  for (const [verb, to] of [
    ['release', 'released'],
    ['reject', 'rejected'],
  ] as const) {
    holds
      .command(`${verb} [id]`)
      .description(verb === 'release' ? 'let held deprovisions go ahead: the access is revoked now' : 'refuse held deprovisions: the access stays until the IdP changes the user again')
      .option('--all <slug>', `${verb} every pending hold of a tenant`)
      .requiredOption('--by <operator>', 'who decides')
      .option('--reason <text>', verb === 'reject' ? 'why (required)' : 'why')
      .option('--json', 'print JSON')
      .action((id: string | undefined, opts: { all?: string; by: string; reason?: string; json?: boolean }) =>
        withRuntime({ json: Boolean(opts.json) }, async (rt) => {
          if (Boolean(id) === Boolean(opts.all)) throw new DomainError('invalid_input', `name one hold id, or --all <slug>`);
          const decided = await rt.holds.decide(id ? { id } : { slug: opts.all! }, to, { by: opts.by, reason: opts.reason });
          print({ json: Boolean(opts.json) }, `${to} ${decided.length} hold(s)`, decided.map(holdJson));
        }),
      );
  }

  const exceptions = program.command('exceptions').description('emergency access outside the rules, for hours, always listed for review');
  exceptions
    .command('grant <slug> <userName> <package>')
    .description("grant a package the policy's emergency section allows, for at most its maxDuration")
    .requiredOption('--by <operator>', 'who grants it')
    .requiredOption('--reason <text>', 'why')
    .option('--for <duration>', 'shorter than the policy maximum, e.g. 2h', durationOption)
    .option('--json', 'print JSON')
    .action((slug: string, userName: string, pkg: string, opts: { by: string; reason: string; for?: number; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const x = await rt.exceptions.grant(slug, { userName, package: pkg, by: opts.by, reason: opts.reason, durationMs: opts.for });
        print({ json: Boolean(opts.json) }, `emergency access ${x.id}: ${x.package} for ${x.userName} until ${iso(x.endsAt)}`, exceptionJson({ ...x, tenant: slug, active: true }));
      }),
    );
  exceptions
    .command('list [slug]')
    .description('every emergency access granted, newest first, for review')
    .option('--active', 'only those not yet ended')
    .option('--json', 'print JSON')
    .action((slug: string | undefined, opts: { active?: boolean; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.exceptions.list(slug, { activeOnly: Boolean(opts.active) });
        const human = list.length
          ? list.map((x) => `${x.id}\t${x.tenant}\t${x.userName}\t${x.package}\t${iso(x.startsAt)} → ${iso(x.endsAt)}${x.active ? ' (active)' : ''}\tby ${x.grantedBy}: ${x.reason}`).join('\n')
          : 'no emergency access';
        print({ json: Boolean(opts.json) }, human, list.map(exceptionJson));
      }),
    );
}
