import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { DomainError } from '../errors/domain-error.js';
import type { Config } from '../config/schema.js';
import type { RunningServer } from '../http/serve.js';
import { type RunningWorkers, startWorkers } from '../provisioning/workers.js';
import { createLogger, flushLogs, type Logger } from '../log/logger.js';
import { loadPolicy } from '../policy/load-policy.js';
import type { ConnectorSummary } from '../provisioning/connector-service.js';
import type { PolicyPlan } from '../provisioning/policy-service.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { scimBaseUrl } from '../tenants/tenant.js';
import { ManifestService } from '../tenants/manifest-service.js';
import { describeStep } from '../tenants/manifest-plan.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerLifecycleCommands, requireInstant } from './lifecycle-commands.js';
import { registerOperatorCommands } from './operator-commands.js';
import { registerStatusCommands } from './status-commands.js';
import { EXIT, fail, type Output, print } from './output.js';

function operatorActor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): the actor is still marked as the CLI.
  }
  return `operator:cli:${name}`;
}

/** JSON or YAML; a parse error names the line only, since the file holds secrets. */
function parseConfigFile(file: string, text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new DomainError('invalid_input', `${file}${line ? ` line ${line}` : ''}: not valid JSON or YAML`);
  }
}

function connectorJson(c: ConnectorSummary) {
  return { name: c.name, kind: c.kind, config: c.config, onDelete: c.onDelete, createdBy: c.createdBy, createdAt: c.createdAt.toISOString() };
}

async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new DomainError('not_found', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function describePlan(slug: string, plan: PolicyPlan): string {
  const lines = [`${slug}: ${plan.users} users, ${plan.changes.length} with changes, ${plan.quarantined} quarantined`];
  for (const [pkg, n] of Object.entries(plan.byPackage).sort()) lines.push(`  package ${pkg}: +${n.grant} grant, -${n.revoke} revoke`);
  for (const user of plan.changes) {
    if (user.status === 'quarantined') lines.push(`  ${user.userName}: quarantined, missing ${user.missing?.join(', ')}`);
    for (const g of user.grant) lines.push(`  ${user.userName}: + ${g.connector} ${g.entitlement} (${g.packages.join(', ')})${g.approval ? ' after approval' : ''}`);
    for (const r of user.revoke) lines.push(`  ${user.userName}: - ${r.connector} ${r.entitlement} (${r.reason})`);
  }
  return lines.join('\n');
}

function ttlOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError('expected a duration such as 90d, 12h or 30m');
  return ms;
}

/**
 * Runs one operator command against a runtime and exits with its status. Config is loaded here, so a bad
 * environment stops every command with a message naming the variable.
 */
async function withRuntime(out: Output, work: (rt: Runtime) => Promise<void>): Promise<void> {
  let runtime: Runtime | undefined;
  let status = 0;
  try {
    const config = loadConfig();
    runtime = await openRuntime(config, createLogger(process.env['LOG_LEVEL'] ?? 'warn', process.stderr));
    await work(runtime);
  } catch (err) {
    status = fail(out, err);
  } finally {
    await runtime?.close().catch(() => {});
  }
  process.exitCode = status;
}

type ServiceMode = 'start' | 'serve' | 'worker';

/** Runs the HTTP service, the provisioning workers, or both in one process (`start`, the small default). */
async function runService(mode: ServiceMode): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.exitCode = fail({ json: false }, err);
    return;
  }
  const log: Logger = createLogger(config.logLevel);
  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (err) {
    log.fatal({ err }, 'cannot start');
    process.exitCode = fail({ json: false }, err);
    return;
  }
  let server: RunningServer | undefined;
  let workers: RunningWorkers | undefined;
  const startup = (async () => {
    // SCIM first: the IdP's changes are committed to PostgreSQL even while Redis is still coming up.
    // Imported only when needed: a worker process never loads the HTTP stack, which keeps it smaller.
    if (mode !== 'worker') server = await (await import('../http/serve.js')).serve(runtime);
    if (mode !== 'serve') {
      workers = await startWorkers({
        pool: runtime.pool,
        queues: runtime.queues(),
        redisUrl: config.redisUrl,
        masterKey: config.masterKey,
        config: config.jobs,
        log,
        audit: config.audit,
        // The all-in-one process serves its workers' job counters on the HTTP service's /metrics.
        metrics: mode === 'start' ? (await import('../metrics/registry.js')).processMetrics().jobs() : undefined,
      });
    }
  })();
  // Listening from the start: a stop asked for while the workers are still starting waits for them, then
  // stops everything cleanly, rather than leaving the process to the signal's default.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await startup.catch(() => {});
    // Stop taking requests first, then let running jobs finish: what they leave undone stays in PostgreSQL.
    await server?.stop();
    await workers?.close();
    await runtime.close();
    flushLogs(log);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    await startup;
    // Logs go out in batches; the line saying the process is up should not wait for the next batch.
    flushLogs(log);
  } catch (err) {
    if (stopping) return;
    stopping = true;
    log.fatal({ err }, 'cannot start');
    process.exitCode = fail({ json: false }, err);
    await server?.stop().catch(() => {});
    await workers?.close().catch(() => {});
    await runtime.close();
    flushLogs(log);
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
  }
}

export function buildProgram(): Command {
  // Usage mistakes are reported like every other error: JSON on stderr under --json, exit status 2.
  const json = process.argv.includes('--json');
  const program = new Command('lanyard')
    .description('Multi-tenant SCIM 2.0 provisioning bridge')
    .showHelpAfterError(!json)
    .configureOutput({
      outputError: (text, write) =>
        write(json ? `${JSON.stringify({ error: { code: 'invalid_input', message: text.replace(/^error: /, '').trim() } })}\n` : text),
    })
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : EXIT.invalid_input);
    });

  program.command('start').description('run the HTTP service and the provisioning workers in one process').action(() => runService('start'));
  program.command('serve').description('run the HTTP service only (scale out: any number, beside `lanyard worker`)').action(() => runService('serve'));
  program.command('worker').description('run the provisioning workers only (any number, on one Redis)').action(() => runService('worker'));

  const jobs = program.command('jobs').description('downstream work that failed and waits for an operator');
  jobs
    .command('failed [slug]')
    .description('list parked jobs: work that failed for good or ran out of retries')
    .option('--json', 'print JSON')
    .action((slug: string | undefined, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.jobs.failed(slug);
        const human = list.length
          ? list.map((j) => `${j.id}\n  ${j.tenant} ${j.connector} ${j.userName}: ${j.grants} grant(s), failed ${j.failedAt.toISOString()}\n  ${j.error ?? ''}`).join('\n')
          : 'no failed jobs';
        print({ json: Boolean(opts.json) }, human, list.map((j) => ({ ...j, failedAt: j.failedAt.toISOString() })));
      }),
    );
  jobs
    .command('retry [id]')
    .description('put a parked job (or, with --all, every one) back in flight')
    .option('--all', 'retry every parked job')
    .option('--tenant <slug>', 'with --all: only this tenant')
    .option('--json', 'print JSON')
    .action((id: string | undefined, opts: { all?: boolean; tenant?: string; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        if (opts.all === Boolean(id)) throw new DomainError('invalid_input', 'give a job id or --all (not both)');
        if (id) {
          const grants = await rt.jobs.retry(id, operatorActor());
          print({ json: Boolean(opts.json) }, `retrying ${id} (${grants} grant(s))`, { id, grants });
        } else {
          const done = await rt.jobs.retryAll(opts.tenant, operatorActor());
          print({ json: Boolean(opts.json) }, `retrying ${done.jobs} job(s), ${done.grants} grant(s)`, done);
        }
      }),
    );

  const tenant = program.command('tenant').description('manage tenants');
  tenant
    .command('create <slug>')
    .description('create a tenant')
    .option('--name <name>', 'display name (defaults to the slug)')
    .option('--json', 'print JSON')
    .action((slug: string, opts: { name?: string; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const created = await rt.tenants.create({ slug, name: opts.name }, operatorActor());
        const scimUrl = scimBaseUrl(rt.config.publicBaseUrl, created.slug);
        print({ json: Boolean(opts.json) }, `created tenant ${created.slug} (${created.name})\nSCIM base URL: ${scimUrl}`, {
          id: created.id,
          slug: created.slug,
          name: created.name,
          status: created.status,
          scimBaseUrl: scimUrl,
        });
      }),
    );
  tenant
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const tenants = await rt.tenants.list();
        const human = tenants.length ? tenants.map((t) => `${t.slug}\t${t.status}\t${t.name}`).join('\n') : 'no tenants';
        print({ json: Boolean(opts.json) }, human, tenants.map((t) => ({ id: t.id, slug: t.slug, name: t.name, status: t.status })));
      }),
    );
  tenant
    .command('apply <manifest>')
    .description('create or update a tenant, its connectors and policy from one manifest file, idempotently; shows the plan first')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--json', 'print JSON')
    .action((file: string, opts: { dryRun?: boolean; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const text = await readTextFile(file);
        const result = await new ManifestService({ ...rt, publicBaseUrl: rt.config.publicBaseUrl }).apply({ text, baseDir: dirname(resolvePath(file)), env: process.env, readFile: (path) => readFileSync(path, 'utf8') }, { dryRun: Boolean(opts.dryRun) }, operatorActor());
        const lines = [`tenant ${result.slug}: ${result.steps.length ? `${result.steps.length} change(s)${result.applied ? ' applied' : ' planned (dry run)'}` : 'already as described'}`];
        for (const step of result.steps) lines.push(`  ${describeStep(step)}`);
        lines.push(`SCIM base URL: ${result.scimBaseUrl}`);
        // The token is shown once, on a line of its own, like `token issue`.
        if (result.token) lines.push(`SCIM token (shown once, expires ${result.token.expiresAt.toISOString()}):`, result.token.token);
        print({ json: Boolean(opts.json) }, lines.join('\n'), {
          slug: result.slug,
          applied: result.applied,
          steps: result.steps,
          scimBaseUrl: result.scimBaseUrl,
          ...(result.token ? { token: { id: result.token.id, token: result.token.token, expiresAt: result.token.expiresAt.toISOString() } } : {}),
        });
      }),
    );
  tenant
    .command('offboard <slug>')
    .description('end a tenant: revoke every grant downstream through the pipeline, revoke its SCIM tokens, keep every record')
    .option('--json', 'print JSON')
    .action((slug: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const done = await rt.tenants.offboard(slug, operatorActor());
        print(
          { json: Boolean(opts.json) },
          `tenant ${done.tenant.slug} is offboarded: ${done.tokensRevoked} token(s) revoked, access of ${done.users} user(s) being revoked`,
          { slug: done.tenant.slug, status: done.tenant.status, tokensRevoked: done.tokensRevoked, users: done.users },
        );
      }),
    );
  tenant
    .command('contract-end <slug> <date>')
    .description("set the tenant's contract end (a date, or none): no grant outlives it")
    .option('--json', 'print JSON')
    .action((slug: string, date: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const t = await rt.tenants.setContractEnd(slug, date === 'none' ? null : requireInstant('date', date), operatorActor());
        const end = t.contractEndsAt?.toISOString() ?? null;
        print({ json: Boolean(opts.json) }, `tenant ${t.slug}: contract ends ${end ?? 'never'}`, { slug: t.slug, contractEndsAt: end });
      }),
    );
  for (const [verb, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    tenant
      .command(`${verb} <slug>`)
      .description(verb === 'suspend' ? 'refuse SCIM traffic for a tenant (403), keeping its data' : 'accept SCIM traffic again')
      .option('--json', 'print JSON')
      .action((slug: string, opts: { json?: boolean }) =>
        withRuntime({ json: Boolean(opts.json) }, async (rt) => {
          const t = await rt.tenants.setStatus(slug, status, operatorActor());
          print({ json: Boolean(opts.json) }, `tenant ${t.slug} is ${t.status}`, { slug: t.slug, status: t.status });
        }),
      );
  }

  const policy = program.command('policy').description('access policy as code');
  policy
    .command('validate <file>')
    .description('check a policy file: schema, durations and references, each problem named by its path')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const out = { json: Boolean(opts.json) };
      let text: string;
      try {
        text = await readTextFile(file);
      } catch (err) {
        process.exitCode = fail(out, err);
        return;
      }
      const result = loadPolicy(text);
      if (result.ok) {
        const { packages, rules } = result.policy;
        print(out, `${file}: valid (${Object.keys(packages).length} packages, ${rules.length} rules)`, {
          valid: true,
          packages: Object.keys(packages),
          rules: rules.length,
        });
        return;
      }
      process.stderr.write(
        out.json
          ? `${JSON.stringify({ error: { code: 'invalid_config', message: `${file} is not a valid policy`, problems: result.errors.map((e) => ({ path: e.path, problem: e.problem })) } })}\n`
          : result.errors.map((e) => `${file}: ${e.message}\n`).join(''),
      );
      process.exitCode = EXIT.invalid_config;
    });

  policy
    .command('apply <slug> <file>')
    .description("store a new version of the tenant's policy (who applied it and when are recorded)")
    .option('--json', 'print JSON')
    .action((slug: string, file: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const version = await rt.policies.apply(slug, await readTextFile(file), operatorActor());
        print({ json: Boolean(opts.json) }, `applied policy version ${version.version} to ${slug}`, {
          slug,
          version: version.version,
          appliedBy: version.appliedBy,
          appliedAt: version.appliedAt.toISOString(),
        });
      }),
    );
  policy
    .command('show <slug>')
    .description("print the tenant's policy in force, with its version")
    .option('--json', 'print JSON')
    .action((slug: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const current = await rt.policies.show(slug);
        if (!current) throw new DomainError('not_found', `tenant "${slug}" has no policy yet (lanyard policy apply ${slug} <file>)`);
        print(
          { json: Boolean(opts.json) },
          `# version ${current.version}, applied by ${current.appliedBy} at ${current.appliedAt.toISOString()}\n${current.source.trimEnd()}`,
          { slug, version: current.version, appliedBy: current.appliedBy, appliedAt: current.appliedAt.toISOString(), source: current.source },
        );
      }),
    );
  policy
    .command('plan <slug> <file>')
    .description('dry run: what the policy would grant and revoke, per package and per user; changes nothing')
    .option('--json', 'print JSON')
    .action((slug: string, file: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const plan = await rt.policies.plan(slug, await readTextFile(file));
        print({ json: Boolean(opts.json) }, describePlan(slug, plan), plan);
      }),
    );

  const connector = program.command('connector').description("manage a tenant's connectors to downstream systems");
  connector
    .command('add <slug> <name>')
    .description('register a connector; its configuration is checked by its kind and its secrets are sealed')
    .requiredOption('--kind <kind>', 'connector kind, e.g. postgres')
    .requiredOption('--config <file>', 'configuration as JSON or YAML')
    .addOption(new Option('--on-delete <action>', "what a user's deletion in the IdP does to the account here").choices(['remove', 'disable']).default('remove'))
    .option('--json', 'print JSON')
    .action((slug: string, name: string, opts: { kind: string; config: string; onDelete: 'remove' | 'disable'; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const config = parseConfigFile(opts.config, await readTextFile(opts.config));
        const added = await rt.connectors.add(slug, { name, kind: opts.kind, config, onDelete: opts.onDelete }, operatorActor());
        print({ json: Boolean(opts.json) }, `added connector ${added.name} (${added.kind}) to ${slug}`, connectorJson(added));
      }),
    );
  connector
    .command('list <slug>')
    .description("list a tenant's connectors (secrets never shown)")
    .option('--json', 'print JSON')
    .action((slug: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.connectors.list(slug);
        const human = list.length ? list.map((c) => `${c.name}\t${c.kind}\t${JSON.stringify(c.config)}`).join('\n') : `no connectors for ${slug}`;
        print({ json: Boolean(opts.json) }, human, list.map(connectorJson));
      }),
    );
  connector
    .command('test <slug> <name>')
    .description('check that the connector reaches its system with working credentials')
    .option('--json', 'print JSON')
    .action((slug: string, name: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        await rt.connectors.test(slug, name);
        print({ json: Boolean(opts.json) }, `connector ${name}: ok`, { name, ok: true });
      }),
    );
  connector
    .command('entitlements <slug> <name>')
    .description('list what the connector can grant')
    .option('--json', 'print JSON')
    .action((slug: string, name: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const list = await rt.connectors.entitlements(slug, name);
        print({ json: Boolean(opts.json) }, list.map((e) => e.id).join('\n') || 'nothing to grant', list);
      }),
    );

  const token = program.command('token').description('manage SCIM bearer tokens');
  token
    .command('issue <slug>')
    .description('issue a SCIM bearer token; it is printed once and never stored')
    .option('--ttl <duration>', 'lifetime, e.g. 90d (default: SCIM_TOKEN_DEFAULT_TTL)', ttlOption)
    .option('--json', 'print JSON')
    .action((slug: string, opts: { ttl?: number; json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const issued = await rt.tokens.issue(slug, { ttlMs: opts.ttl }, operatorActor());
        print({ json: Boolean(opts.json) }, issued.token, { token: issued.token, id: issued.id, expiresAt: issued.expiresAt.toISOString() });
        if (!opts.json) {
          process.stderr.write(
            `token ${issued.id} for ${slug}, expires ${issued.expiresAt.toISOString()}; it is shown only this once.\n` +
              `SCIM base URL: ${scimBaseUrl(rt.config.publicBaseUrl, slug)}\n`,
          );
        }
      }),
    );
  token
    .command('list <slug>')
    .description("list a tenant's tokens (never their values)")
    .option('--json', 'print JSON')
    .action((slug: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const tokens = await rt.tokens.list(slug);
        const iso = (d: Date | null) => (d ? d.toISOString() : null);
        const rows = tokens.map((t) => ({
          id: t.id,
          state: t.state,
          createdAt: iso(t.createdAt),
          expiresAt: iso(t.expiresAt),
          revokedAt: iso(t.revokedAt),
          lastUsedAt: iso(t.lastUsedAt),
          createdBy: t.createdBy,
        }));
        const human = rows.length
          ? ['ID\tSTATE\tEXPIRES\tLAST USED', ...rows.map((r) => `${r.id}\t${r.state}\t${r.expiresAt}\t${r.lastUsedAt ?? 'never'}`)].join('\n')
          : `no tokens for ${slug}`;
        print({ json: Boolean(opts.json) }, human, rows);
      }),
    );
  token
    .command('revoke <slug> <tokenId>')
    .description('revoke a token at once')
    .option('--json', 'print JSON')
    .action((slug: string, tokenId: string, opts: { json?: boolean }) =>
      withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const outcome = await rt.tokens.revoke(slug, tokenId, operatorActor());
        print({ json: Boolean(opts.json) }, outcome === 'revoked' ? `revoked ${tokenId}` : `${tokenId} was already revoked`, {
          id: tokenId,
          result: outcome,
        });
      }),
    );
  registerAuditCommands(program, { withRuntime });
  registerLifecycleCommands(program, { withRuntime, operatorActor });
  registerOperatorCommands(program, { withRuntime, operatorActor });
  registerStatusCommands(program, { withRuntime });
  return program;
}
