import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Connector secrets at rest: AES-256-GCM under LANYARD_MASTER_KEY. The key id (a hash prefix of the key,
 * never the key) is stored with each value so a rotation can tell which key sealed it; the associated data
 * binds the value to its owner, so a sealed secret copied to another connector or tenant does not open.
 */
export const sealedSchema = z.object({
  alg: z.literal('A256GCM'),
  keyId: z.string(),
  iv: z.string(),
  tag: z.string(),
  data: z.string(),
});
export type Sealed = z.infer<typeof sealedSchema>;

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function seal(plaintext: string, key: Buffer, owner: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(owner, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { alg: 'A256GCM', keyId: keyIdOf(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

export class SecretUnreadable extends Error {
  override readonly name = 'SecretUnreadable';
}

export function open(sealed: unknown, key: Buffer, owner: string): string {
  const box = sealedSchema.safeParse(sealed);
  if (!box.success) throw new SecretUnreadable('the stored secret is not a sealed value');
  if (box.data.keyId !== keyIdOf(key)) {
    throw new SecretUnreadable(`the secret was sealed with master key ${box.data.keyId}, not the current one (${keyIdOf(key)})`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.data.iv, 'base64'));
    decipher.setAAD(Buffer.from(owner, 'utf8'));
    decipher.setAuthTag(Buffer.from(box.data.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(box.data.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretUnreadable('the stored secret does not open: altered, or sealed for another owner');
  }
}
