import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { collectEvidence } from '../audit/evidence.js';
import { evidenceWriter } from '../audit/evidence-writer.js';
import { loadSigningKey, type CheckpointResult, writeCheckpoints } from '../audit/checkpoint-files.js';
import { EXPORT_FORMATS, type ExportFormat, exportAuditEvents, parseSince } from '../audit/export.js';
import { type AuditVerdict, verifyAudit } from '../audit/verify-chain.js';
import { checkpointSource, verdictJson } from '../audit/verify-summary.js';
import { ConfigError } from '../errors/config-error.js';
import { DomainError } from '../errors/domain-error.js';
import type { Runtime } from '../runtime.js';
import type { Tenant } from '../tenants/tenant.js';
import { EXIT, type Output, print } from './output.js';

/** What the audit commands borrow from the program that registers them. */
export interface AuditCommandHelpers {
  /** Opens a runtime for one command, reports any error it throws and sets the exit status. */
  withRuntime(out: Output, work: (rt: Runtime) => Promise<void>): Promise<void>;
}

function sinceOption(value: string): Date {
  const since = parseSince(value);
  if (!since) throw new InvalidArgumentError('expected a date (2024-05-01), a date-time with offset (2024-05-01T09:00Z) or a duration (7d, 12h)');
  return since;
}

function describeVerdict(slug: string, v: AuditVerdict): string {
  const lines = [
    v.chain.ok
      ? `${slug}: audit chain intact, ${v.chain.events} events, head ${v.chain.head}`
      : `${slug}: audit chain BROKEN at seq ${v.chain.brokenAt}: ${v.chain.reason} (${v.chain.events} events before it verified)`,
  ];
  const c = v.checkpoints;
  if (c) {
    lines.push(
      c.trusted
        ? `checkpoints: ${c.trusted} verified with key ${c.keyId}, latest at seq ${c.latest!.seq} (${c.latest!.createdAt})`
        : `checkpoints: none for this tenant in ${c.dir}`,
    );
    for (const r of c.rejected) lines.push(`checkpoint REJECTED ${r.file}: ${r.reason}`);
  }
  return lines.join('\n');
}

function describeCheckpoint(slug: string, r: CheckpointResult): string {
  switch (r.status) {
    case 'written':
      return `${slug}: checkpoint at seq ${r.seq} written (${r.file})`;
    case 'unchanged':
      return `${slug}: unchanged since the checkpoint at seq ${r.seq}`;
    case 'empty':
      return `${slug}: no events yet`;
    case 'diverged':
      return `${slug}: NOT signed: ${r.reason}; run lanyard audit verify ${slug}`;
  }
}

/** Streams the export into a temporary file beside `file` and renames it: a failed export leaves nothing behind. */
async function exportToFile(rt: Runtime, tenant: Tenant, file: string, format: ExportFormat, since: Date | undefined): Promise<number> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const stream = createWriteStream(temporary, { flags: 'wx' });
  try {
    await once(stream, 'open');
    const { events } = await exportAuditEvents(rt.pool, tenant.id, { format, since, out: stream });
    stream.end();
    await once(stream, 'finish');
    await rename(temporary, file);
    return events;
  } catch (err) {
    stream.destroy();
    await rm(temporary, { force: true });
    throw err;
  }
}

/** `lanyard audit …`: verify a tenant's trail, sign checkpoints of it, export it; `lanyard evidence`: what an auditor asks for. */
export function registerAuditCommands(program: Command, helpers: AuditCommandHelpers): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: verify, checkpoint, export');

  audit
    .command('verify <slug>')
    .description("recompute the tenant's hash chain and check it against its signed checkpoints; exit status 1 when broken")
    .option('--checkpoints <dir>', 'directory of signed checkpoints (default: AUDIT_CHECKPOINT_DIR)')
    .option('--public-key <file>', 'PEM public key (or the private key) that signed them (default: AUDIT_SIGNING_KEY_FILE)')
    .option('--json', 'print JSON')
    .action(async (slug: string, opts: { checkpoints?: string; publicKey?: string; json?: boolean }) => {
      const out = { json: Boolean(opts.json) };
      let intact = true;
      await helpers.withRuntime(out, async (rt) => {
        const tenant = await rt.tenants.get(slug);
        const checkpoints = await checkpointSource(rt.config.audit, opts);
        const verdict = await verifyAudit(rt.pool, tenant.id, { checkpoints });
        intact = verdict.ok;
        print(out, describeVerdict(slug, verdict), verdictJson(slug, verdict));
      });
      // A broken trail is the command's answer, not an error of the command: printed above, signalled here.
      if (!intact) process.exitCode = EXIT.failure;
    });

  audit
    .command('checkpoint [slug]')
    .description('sign a checkpoint of the chain head of the tenant (or of every tenant) that moved since its last one; needs AUDIT_SIGNING_KEY_FILE')
    .option('--dir <dir>', 'directory to write to (default: AUDIT_CHECKPOINT_DIR)')
    .option('--json', 'print JSON')
    .action(async (slug: string | undefined, opts: { dir?: string; json?: boolean }) => {
      const out = { json: Boolean(opts.json) };
      let diverged = false;
      await helpers.withRuntime(out, async (rt) => {
        const dir = opts.dir ?? rt.config.audit.checkpointDir;
        if (!dir) throw new DomainError('invalid_input', 'give --dir <dir> or set AUDIT_CHECKPOINT_DIR');
        const keyFile = rt.config.audit.signingKeyFile;
        if (!keyFile) throw new ConfigError('AUDIT_SIGNING_KEY_FILE', 'is not set; signing checkpoints needs the private key');
        const key = await loadSigningKey({ file: keyFile, setting: 'AUDIT_SIGNING_KEY_FILE' });
        const tenants = slug ? [await rt.tenants.get(slug)] : await rt.tenants.list();
        const results = await writeCheckpoints(rt.pool, { dir, key, tenantIds: tenants.map((t) => t.id) });
        const slugOf = new Map(tenants.map((t) => [t.id, t.slug]));
        diverged = results.some((r) => r.status === 'diverged');
        print(out, results.map((r) => describeCheckpoint(slugOf.get(r.tenantId)!, r)).join('\n') || 'no tenants', {
          dir,
          keyId: key.keyId,
          tenants: results.map((r) => ({ tenant: slugOf.get(r.tenantId), ...r })),
        });
      });
      if (diverged) process.exitCode = EXIT.failure;
    });

  audit
    .command('export <slug>')
    .description("write the tenant's audit events in sequence order, as JSON Lines or CSV (stdout unless --out)")
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).makeOptionMandatory())
    .option('--since <when>', 'only events since a date (2024-05-01) or for a duration back (7d)', sinceOption)
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--json', 'print the summary (with --out) and errors as JSON')
    .action((slug: string, opts: { format: ExportFormat; since?: Date; out?: string; json?: boolean }) =>
      helpers.withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const tenant = await rt.tenants.get(slug);
        if (!opts.out) {
          await exportAuditEvents(rt.pool, tenant.id, { format: opts.format, since: opts.since, out: process.stdout });
          return;
        }
        const events = await exportToFile(rt, tenant, opts.out, opts.format, opts.since);
        print({ json: Boolean(opts.json) }, `exported ${events} events of ${slug} to ${opts.out}`, { tenant: slug, events, file: opts.out, format: opts.format });
      }),
    );

  program
    .command('evidence <slug>')
    .description(
      "every grant of the tenant, current and past, with why it was made, who approved it, when it started and when and why it ended; and the requests that never became access",
    )
    .option('--user <userName>', 'only this user (as named now, or on the records of a user since renamed or deleted)')
    .option('--json', 'print JSON')
    .action((slug: string, opts: { user?: string; json?: boolean }) =>
      helpers.withRuntime({ json: Boolean(opts.json) }, async (rt) => {
        const writer = evidenceWriter(process.stdout, Boolean(opts.json));
        await collectEvidence(rt.pool, slug, writer, { userName: opts.user });
        await writer.finish();
      }),
    );
}
