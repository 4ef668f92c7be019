import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  checkpointFileName,
  keyIdOf,
  parseCheckpointFileName,
  type SigningKey,
  signCheckpoint,
  signingKeyFrom,
  verifyCheckpoint,
} from './checkpoint.js';

function newKey(): SigningKey {
  const key = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
  if ('problem' in key) throw new Error(key.problem);
  return key;
}

const key = newKey();
const checkpoint: Checkpoint = {
  tenantId: '0b5c7a52-3f1e-4d8a-9c2b-6e4f1a2b3c4d',
  seq: 1234,
  hash: 'ab'.repeat(32),
  createdAt: '2024-05-01T09:00:00.000Z',
};

/** What a file holds after a JSON round trip, as verification reads it. */
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('checkpoint signatures', () => {
  it('verify with the public key alone and give back exactly what was signed', () => {
    const file = signCheckpoint(checkpoint, key);
    expect(file).toMatchObject({ version: 1, ...checkpoint, keyId: key.keyId });
    expect(verifyCheckpoint(asStored(file), key.publicKey)).toEqual({ ok: true, checkpoint });
  });

  it('refuse any signed field changed after signing', () => {
    const file = signCheckpoint(checkpoint, key);
    for (const change of [{ seq: 1235 }, { hash: 'cd'.repeat(32) }, { tenantId: '1b5c7a52-3f1e-4d8a-9c2b-6e4f1a2b3c4d' }, { createdAt: '2024-05-02T09:00:00.000Z' }]) {
      const check = verifyCheckpoint(asStored({ ...file, ...change }), key.publicKey);
      expect(check).toEqual({ ok: false, reason: 'bad signature: the checkpoint was altered after signing' });
    }
  });

  it('refuse a checkpoint signed by another key, naming both keys, even when it claims the trusted key id', () => {
    const other = newKey();
    const forged = signCheckpoint(checkpoint, other);
    expect(verifyCheckpoint(asStored(forged), key.publicKey)).toEqual({
      ok: false,
      reason: `bad signature: signed by key ${other.keyId}, not the trusted key ${key.keyId}`,
    });
    // The key id is a hint, not a credential: copying the trusted key's id changes nothing.
    expect(verifyCheckpoint(asStored({ ...forged, keyId: key.keyId }), key.publicKey).ok).toBe(false);
  });

  it('refuse a file that is not a checkpoint, saying which field is wrong', () => {
    const file = signCheckpoint(checkpoint, key);
    const check = verifyCheckpoint({ ...file, seq: 'many' }, key.publicKey);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(/^not a checkpoint: seq: /);
    expect(verifyCheckpoint({ ...file, extra: true }, key.publicKey).ok).toBe(false);
    expect(verifyCheckpoint(null, key.publicKey).ok).toBe(false);
  });

  it('are deterministic (Ed25519): the same checkpoint signed twice gives the same file', () => {
    expect(signCheckpoint(checkpoint, key)).toEqual(signCheckpoint(checkpoint, key));
  });
});

describe('signing keys', () => {
  it('derive a 16-hex-digit key id from the public key, the same from either half', () => {
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(key.publicKey)).toBe(key.keyId);
    expect(newKey().keyId).not.toBe(key.keyId);
  });

  it('must be Ed25519 private keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(signingKeyFrom(rsa)).toEqual({ problem: 'expected an Ed25519 private key, got rsa' });
    expect(signingKeyFrom(key.publicKey)).toHaveProperty('problem');
  });
});

describe('checkpoint file names', () => {
  it('sort by tenant, then by sequence number', () => {
    const a = '0b5c7a52-3f1e-4d8a-9c2b-6e4f1a2b3c4d';
    const b = '9f000000-0000-4000-8000-000000000000';
    const names = [checkpointFileName(b, 2), checkpointFileName(a, 100), checkpointFileName(a, 9), checkpointFileName(b, 10)];
    expect([...names].sort()).toEqual([checkpointFileName(a, 9), checkpointFileName(a, 100), checkpointFileName(b, 2), checkpointFileName(b, 10)]);
    expect(checkpointFileName(a, 9)).toBe(`${a}.0000000000000009.json`);
  });

  it('parse back to tenant and sequence, and nothing else parses', () => {
    const name = checkpointFileName(checkpoint.tenantId, Number.MAX_SAFE_INTEGER);
    expect(parseCheckpointFileName(name)).toEqual({ tenantId: checkpoint.tenantId, seq: Number.MAX_SAFE_INTEGER });
    expect(parseCheckpointFileName(`.${name}.a1b2c3.tmp`)).toBeNull();
    expect(parseCheckpointFileName('notes.txt')).toBeNull();
    expect(parseCheckpointFileName(`${checkpoint.tenantId}.12.json`)).toBeNull();
  });
});
