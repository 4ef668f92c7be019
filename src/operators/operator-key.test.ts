import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseToken, secretMatches } from '../tenants/scim-token.js';
import { mintOperatorKey, parseOperatorKey } from './operator-key.js';

describe('operator keys', () => {
  it('round-trip: the parsed secret matches the stored hash', () => {
    const id = randomUUID();
    const minted = mintOperatorKey(id);
    expect(minted.key).toMatch(/^lanyard_op_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseOperatorKey(minted.key)!;
    expect(parsed.id).toBe(id);
    expect(secretMatches(parsed.secret, minted.secretHash)).toBe(true);
    expect(minted.secretHash).toHaveLength(32);
  });

  it('is never taken for a SCIM token, nor a SCIM token for a key', () => {
    const key = mintOperatorKey(randomUUID()).key;
    expect(parseToken(key)).toBeNull();
    expect(parseOperatorKey(`lanyard_${'a'.repeat(32)}_${'b'.repeat(43)}`)).toBeNull();
  });

  it.each([
    '',
    `lanyard_op_${'A'.repeat(32)}_${'b'.repeat(43)}`,
    `lanyard_op_${'a'.repeat(31)}_${'b'.repeat(43)}`,
    `lanyard_op_${'a'.repeat(32)}_${'b'.repeat(42)}`,
    ` lanyard_op_${'a'.repeat(32)}_${'b'.repeat(43)}`,
    `lanyard_op_${'a'.repeat(32)}_${'b'.repeat(43)}\n`,
  ])('refuses %j', (text) => {
    expect(parseOperatorKey(text)).toBeNull();
  });
});
