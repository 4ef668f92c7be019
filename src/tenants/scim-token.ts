import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCIM bearer tokens look like `lanyard_<token id, 32 hex>_<secret, 43 base64url>`. The id lets the service
 * find the one stored hash to compare against; the 256-bit secret is what authenticates. The prefix makes a
 * leaked token easy for secret scanners to spot.
 */
const TOKEN = /^lanyard_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface MintedToken {
  id: string;
  token: string;
  secretHash: Buffer;
}

export function mintToken(id: string): MintedToken {
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `lanyard_${id.replace(/-/g, '')}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  const hex = match[1]!;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2]! };
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compares in time independent of where the hashes differ. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(secret);
  return storedHash.length === candidate.length && timingSafeEqual(candidate, storedHash);
}
