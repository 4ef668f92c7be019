import type { Command } from 'commander';
import { DomainError } from '../errors/domain-error.js';
import { TOKEN_EXPIRY_WARNING_MS } from '../lifecycle/token-expiry-schedule.js';
import { GRANT_STATES } from '../policy/grant-state.js';
import type { Runtime } from '../runtime.js';
import { type TenantStatusRow, tenantStatuses } from '../store/status-store.js';
import { inTx } from '../store/transaction.js';
import { type Output, print } from './output.js';

/** What the status command borrows from the program that registers it. */
export interface StatusCommandHelpers {
  withRuntime(out: Output, work: (rt: Runtime) => Promise<void>): Promise<void>;
}

const MINUTE = 60_000;
const EXPIRY_DAYS = Math.round(TOKEN_EXPIRY_WARNING_MS / (24 * 60 * MINUTE));

/** "just now", "1 minute ago", "42 minutes ago", then hours and days: what an operator reads at a glance. */
export function ago(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / MINUTE);
  if (minutes < 1) return 'just now';
  const [n, unit] = minutes < 120 ? [minutes, 'minute'] : minutes < 48 * 60 ? [Math.floor(minutes / 60), 'hour'] : [Math.floor(minutes / (24 * 60)), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

/** The JSON shape is stable: every field is always present, every grant state listed, times in UTC. */
export function statusJson(t: TenantStatusRow, now: Date) {
  return {
    slug: t.slug,
    status: t.status,
    lastPush: t.lastScimRequestAt ? { at: t.lastScimRequestAt.toISOString(), minutesAgo: Math.floor(Math.max(0, now.getTime() - t.lastScimRequestAt.getTime()) / MINUTE) } : null,
    users: { total: t.users, active: t.activeUsers },
    grants: t.grants,
    pendingApprovals: t.pendingApprovals,
    pendingHolds: t.pendingHolds,
    failedJobs: t.parkedWork,
    tokens: {
      active: t.activeTokens,
      expiringSoon: t.expiringTokens,
      expiringWithinDays: EXPIRY_DAYS,
      nextExpiry: t.nextTokenExpiry?.toISOString() ?? null,
      flagged: t.expiringTokens > 0,
    },
    contractEndsAt: t.contractEndsAt?.toISOString() ?? null,
  };
}

export function statusText(t: TenantStatusRow, now: Date): string {
  const grants = GRANT_STATES.filter((s) => t.grants[s] > 0).map((s) => `${s} ${t.grants[s]}`);
  const tokens = [`${t.activeTokens} in force`];
  if (t.nextTokenExpiry) tokens.push(`next expiry ${t.nextTokenExpiry.toISOString()}`);
  const lines = [
    `${t.slug}  (${t.status})`,
    `  Last push:     ${t.lastScimRequestAt ? `${t.lastScimRequestAt.toISOString()} (${ago(now.getTime() - t.lastScimRequestAt.getTime())})` : 'never'}`,
    `  Users:         ${t.users} (${t.activeUsers} active)`,
    `  Grants:        ${grants.length ? grants.join(', ') : 'none'}`,
    `  Approvals:     ${t.pendingApprovals} pending`,
    `  Holds:         ${t.pendingHolds} pending${t.pendingHolds ? ` (lanyard holds list ${t.slug} --pending)` : ''}`,
    `  Failed jobs:   ${t.parkedWork}${t.parkedWork ? ` (lanyard jobs failed ${t.slug})` : ''}`,
    `  Tokens:        ${tokens.join(', ')}`,
  ];
  if (t.expiringTokens) {
    lines.push(`  ! ${t.expiringTokens} token(s) expire within ${EXPIRY_DAYS} days: issue a new one (lanyard token issue ${t.slug}) and move the IdP to it`);
  } else if (t.activeTokens === 0 && t.status === 'active') {
    lines.push(`  ! no token in force: the IdP cannot push (lanyard token issue ${t.slug})`);
  }
  lines.push(`  Contract end:  ${t.contractEndsAt?.toISOString() ?? 'none'}`);
  return lines.join('\n');
}

export function registerStatusCommands(program: Command, helpers: StatusCommandHelpers): void {
  const { withRuntime } = helpers;
  program
    .command('status [slug]')
    .description('each tenant at a glance: last push, users, grants, approvals, holds, failed jobs, expiring tokens, contract end')
    .option('--json', 'print JSON')
    .action((slug: string | undefined, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const now = new Date();
        const rows = await inTx(rt.pool, (db) => tenantStatuses(db, { slug, expiringWithinMs: TOKEN_EXPIRY_WARNING_MS }), { readOnly: true });
        if (slug !== undefined && !rows.length) throw new DomainError('not_found', `no tenant "${slug.slice(0, 64)}"`);
        const human = rows.length ? rows.map((t) => statusText(t, now)).join('\n\n') : 'no tenants';
        print({ json: Boolean(opts.json) }, human, { at: now.toISOString(), tenants: rows.map((t) => statusJson(t, now)) });
      }),
    );
}
