import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/**
 * A signed statement that a tenant's audit chain had reached `seq` with head `hash` at `createdAt`. Kept
 * outside the database and signed with a key the database never sees, it pins the chain's past: a rewrite
 * of any event up to `seq` (hashes recomputed or not) or a truncation below `seq` no longer matches it.
 */
export interface Checkpoint {
  tenantId: string;
  seq: number;
  /** The chain's hash at `seq`, lowercase hex. */
  hash: string;
  /** ISO 8601, when the checkpoint was taken. */
  createdAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const checkpointFileSchema = z.strictObject({
  version: z.literal(1),
  tenantId: z.string().regex(UUID),
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  /** Which key signed it (see keyIdOf): a hint for the reader, not covered by the signature. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 over signedBytes(), base64. */
  signature: z.base64(),
});

/** A checkpoint as stored in its file. */
export type CheckpointFile = z.infer<typeof checkpointFileSchema>;

/** A key that signs checkpoints, with the public half and its id, derived once. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/**
 * What the signature covers. The prefix keeps a checkpoint signature from meaning anything else should the
 * key ever sign other things; the canonical JSON fixes the bytes whoever serialises the checkpoint.
 */
const SIGNATURE_CONTEXT = 'lanyard audit checkpoint v1\n';

function signedBytes(c: Checkpoint): Buffer {
  return Buffer.from(SIGNATURE_CONTEXT + canonicalJson({ tenantId: c.tenantId, seq: c.seq, hash: c.hash, createdAt: c.createdAt }), 'utf8');
}

/** First 16 hex digits of the SHA-256 of the public key (SubjectPublicKeyInfo, DER). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Checks the key is Ed25519 and derives what signing needs; `problem` names what is wrong otherwise. */
export function signingKeyFrom(privateKey: KeyObject): SigningKey | { problem: string } {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    return { problem: `expected an Ed25519 private key, got ${privateKey.asymmetricKeyType ?? privateKey.type}` };
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function signCheckpoint(checkpoint: Checkpoint, key: SigningKey): CheckpointFile {
  return {
    version: 1,
    tenantId: checkpoint.tenantId,
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    createdAt: checkpoint.createdAt,
    keyId: key.keyId,
    signature: sign(null, signedBytes(checkpoint), key.privateKey).toString('base64'),
  };
}

export type CheckpointCheck = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/**
 * Parses a checkpoint file's content and checks its signature against `publicKey`. Anything that does not
 * verify is refused with the reason; its claims are never used.
 */
export function verifyCheckpoint(content: unknown, publicKey: KeyObject): CheckpointCheck {
  const parsed = checkpointFileSchema.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `not a checkpoint: ${issue ? `${issue.path.join('.') || 'file'}: ${issue.message}` : 'invalid'}` };
  }
  const file = parsed.data;
  const checkpoint: Checkpoint = { tenantId: file.tenantId, seq: file.seq, hash: file.hash, createdAt: file.createdAt };
  if (verify(null, signedBytes(checkpoint), publicKey, Buffer.from(file.signature, 'base64'))) return { ok: true, checkpoint };
  const expected = keyIdOf(publicKey);
  return {
    ok: false,
    reason: file.keyId === expected ? 'bad signature: the checkpoint was altered after signing' : `bad signature: signed by key ${file.keyId}, not the trusted key ${expected}`,
  };
}

/** Wide enough for any sequence number below 2^53, so names sort by tenant, then by sequence. */
const SEQ_DIGITS = 16;
const FILE_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{16})\.json$/;

/** `<tenant id>.<seq, 16 digits>.json`: a plain `ls` lists each tenant's checkpoints in chain order. */
export function checkpointFileName(tenantId: string, seq: number): string {
  return `${tenantId.toLowerCase()}.${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

/** The tenant and sequence a checkpoint file name claims, or null for any other file (temporary files too). */
export function parseCheckpointFileName(name: string): { tenantId: string; seq: number } | null {
  const match = FILE_NAME.exec(name);
  return match ? { tenantId: match[1]!, seq: Number(match[2]) } : null;
}
