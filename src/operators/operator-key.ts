import { randomBytes } from 'node:crypto';
import { hashSecret } from '../tenants/scim-token.js';

/**
 * Operator API keys look like `lanyard_op_<key id, 32 hex>_<secret, 43 base64url>`: the SCIM token format
 * with its own prefix, so neither kind of credential can be mistaken for the other, and a leaked key is as
 * easy for secret scanners to spot. Hashing and constant-time comparison are the SCIM tokens' own.
 */
const KEY = /^lanyard_op_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface MintedOperatorKey {
  id: string;
  key: string;
  secretHash: Buffer;
}

export function mintOperatorKey(id: string): MintedOperatorKey {
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `lanyard_op_${id.replace(/-/g, '')}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseOperatorKey(key: string): { id: string; secret: string } | null {
  const match = KEY.exec(key);
  if (!match) return null;
  const hex = match[1]!;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2]! };
}
