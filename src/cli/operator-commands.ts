import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';
import type { OperatorKeyService, OperatorKeySummary } from '../operators/operator-key-service.js';
import type { OperatorKeyRecord } from '../store/operator-keys-store.js';
import type { Runtime } from '../runtime.js';
import { type Output, print } from './output.js';

/** What the operator commands borrow from the program that registers them. */
export interface OperatorCommandHelpers {
  withRuntime(out: Output, work: (rt: Runtime) => Promise<void>): Promise<void>;
  operatorActor(): string;
}

function ttlOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError('expected a duration such as 90d, 12h or 30m');
  return ms;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function keyJson(k: OperatorKeyRecord & { state?: OperatorKeySummary['state'] }) {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    tenants: k.role === 'tenant-admin' ? k.tenants : ('all' as const),
    ...(k.state ? { state: k.state } : {}),
    createdBy: k.createdBy,
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}

function keysOf(rt: Runtime): OperatorKeyService {
  return rt.operatorKeys;
}

export function registerOperatorCommands(program: Command, helpers: OperatorCommandHelpers): void {
  const { withRuntime, operatorActor } = helpers;
  const key = program
    .command('operator')
    .description("the MSP's operators of the admin API")
    .command('key')
    .description('operator API keys: msp-admin (every tenant), tenant-admin (named tenants), auditor (read-only evidence and audit)');
  key
    .command('create')
    .description('create an operator API key; it is printed once and never stored')
    .requiredOption('--name <name>', 'who or what holds the key (letters, digits, . _ @ -)')
    .requiredOption('--role <role>', 'msp-admin, tenant-admin or auditor')
    .option('--tenant <slug>', 'a tenant a tenant-admin key administers (repeat for several)', collect, [])
    .option('--ttl <duration>', 'lifetime, e.g. 30d (default: OPERATOR_KEY_DEFAULT_TTL)', ttlOption)
    .option('--json', 'print JSON')
    .action((opts: { name: string; role: string; tenant: string[]; ttl?: number; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const created = await keysOf(rt).create({ name: opts.name, role: opts.role, tenants: opts.tenant, ttlMs: opts.ttl }, operatorActor());
        print({ json: Boolean(opts.json) }, created.key, { key: created.key, ...keyJson(created.record) });
        if (!opts.json) {
          const scope = created.record.role === 'tenant-admin' ? ` of ${created.record.tenants.join(', ')}` : '';
          process.stderr.write(
            `operator key ${created.record.id} (${created.record.name}, ${created.record.role}${scope}), expires ${iso(created.record.expiresAt)}; it is shown only this once.\n`,
          );
        }
      }),
    );
  key
    .command('list')
    .description('list operator keys with their roles, tenants, states and last use (never the keys)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const rows = (await keysOf(rt).list()).map(keyJson);
        const human = rows.length
          ? [
              'ID\tNAME\tROLE\tTENANTS\tSTATE\tEXPIRES\tLAST USED',
              ...rows.map((r) => `${r.id}\t${r.name}\t${r.role}\t${r.tenants === 'all' ? 'all' : r.tenants.join(',')}\t${r.state}\t${r.expiresAt}\t${r.lastUsedAt ?? 'never'}`),
            ].join('\n')
          : 'no operator keys';
        print({ json: Boolean(opts.json) }, human, rows);
      }),
    );
  key
    .command('revoke <id>')
    .description('revoke an operator key at once')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const outcome = await keysOf(rt).revoke(id, operatorActor());
        print({ json: Boolean(opts.json) }, outcome === 'revoked' ? `revoked ${id}` : `${id} was already revoked`, { id, result: outcome });
      }),
    );
}
