import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, mintToken, parseToken, secretMatches } from './scim-token.js';

const FORMAT = /^lanyard_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;

describe('mintToken and parseToken', () => {
  it('mints a token in the documented format', () => {
    const id = randomUUID();
    const minted = mintToken(id);
    expect(minted.id).toBe(id);
    expect(minted.token).toMatch(FORMAT);
    expect(minted.token.startsWith(`lanyard_${id.replace(/-/g, '')}_`)).toBe(true);
  });

  it('round-trips: parsing a minted token yields its id and the secret behind its hash', () => {
    const id = randomUUID();
    const minted = mintToken(id);
    const parsed = parseToken(minted.token);
    expect(parsed).not.toBeNull();
    expect(parsed!.id).toBe(id);
    expect(minted.token.endsWith(`_${parsed!.secret}`)).toBe(true);
    expect(secretMatches(parsed!.secret, minted.secretHash)).toBe(true);
  });

  it('stores the sha256 of the secret, 32 bytes', () => {
    const minted = mintToken(randomUUID());
    const { secret } = parseToken(minted.token)!;
    expect(minted.secretHash).toHaveLength(32);
    expect(minted.secretHash.equals(createHash('sha256').update(secret).digest())).toBe(true);
    expect(hashSecret(secret).equals(minted.secretHash)).toBe(true);
  });

  it('mints a fresh secret each time', () => {
    const id = randomUUID();
    const a = mintToken(id);
    const b = mintToken(id);
    expect(a.token).not.toBe(b.token);
    expect(a.secretHash.equals(b.secretHash)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no prefix', `${'a'.repeat(32)}_${'b'.repeat(43)}`],
    ['another prefix', `scim_${'a'.repeat(32)}_${'b'.repeat(43)}`],
    ['an upper-case id', `lanyard_${'A'.repeat(32)}_${'b'.repeat(43)}`],
    ['a short id', `lanyard_${'a'.repeat(31)}_${'b'.repeat(43)}`],
    ['a dashed id', `lanyard_${randomUUID()}_${'b'.repeat(43)}`],
    ['a short secret', `lanyard_${'a'.repeat(32)}_${'b'.repeat(42)}`],
    ['a long secret', `lanyard_${'a'.repeat(32)}_${'b'.repeat(44)}`],
    ['a non-base64url secret', `lanyard_${'a'.repeat(32)}_${'b'.repeat(42)}+`],
    ['surrounding space', ` lanyard_${'a'.repeat(32)}_${'b'.repeat(43)}`],
    ['a trailing newline', `lanyard_${'a'.repeat(32)}_${'b'.repeat(43)}\n`],
  ])('parseToken rejects %s', (_case, token) => {
    expect(parseToken(token)).toBeNull();
  });

  it('parseToken formats the id as a UUID', () => {
    expect(parseToken(`lanyard_0123456789abcdef0123456789abcdef_${'b'.repeat(43)}`)).toEqual({
      id: '01234567-89ab-cdef-0123-456789abcdef',
      secret: 'b'.repeat(43),
    });
  });
});

describe('secretMatches', () => {
  it('is true for the secret and false for any other', () => {
    const hash = hashSecret('s3cret');
    expect(secretMatches('s3cret', hash)).toBe(true);
    expect(secretMatches('s3creT', hash)).toBe(false);
    expect(secretMatches('', hash)).toBe(false);
  });

  it('is false, without throwing, against a stored hash of another length', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret').subarray(0, 16))).toBe(false);
    expect(secretMatches('s3cret', Buffer.alloc(0))).toBe(false);
  });
});
