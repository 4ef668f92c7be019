import { loadVerifyingKey } from './checkpoint-files.js';
import type { AuditVerdict } from './verify-chain.js';
import type { AuditConfig } from '../config/schema.js';
import { DomainError } from '../errors/domain-error.js';

/** The checkpoints to verify against: the directory and key given, else those configured, else none. */
export async function checkpointSource(audit: AuditConfig, opts: { checkpoints?: string; publicKey?: string }) {
  const dir = opts.checkpoints ?? audit.checkpointDir;
  if (!dir) {
    if (opts.publicKey) throw new DomainError('invalid_input', '--public-key needs --checkpoints <dir> (or AUDIT_CHECKPOINT_DIR)');
    return undefined;
  }
  const source = opts.publicKey ? { file: opts.publicKey } : audit.signingKeyFile ? { file: audit.signingKeyFile, setting: 'AUDIT_SIGNING_KEY_FILE' } : null;
  if (!source) throw new DomainError('invalid_input', `checking the checkpoints in ${dir} needs --public-key <file> (or AUDIT_SIGNING_KEY_FILE)`);
  return { dir, publicKey: await loadVerifyingKey(source) };
}

export function verdictJson(slug: string, v: AuditVerdict) {
  return {
    tenant: slug,
    tenantId: v.tenantId,
    ok: v.ok,
    events: v.chain.events,
    head: v.chain.ok ? v.chain.head : null,
    brokenAt: v.chain.ok ? null : v.chain.brokenAt,
    reason: v.chain.ok ? null : v.chain.reason,
    checkpoints: v.checkpoints,
  };
}

