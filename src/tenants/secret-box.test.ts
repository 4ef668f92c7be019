import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, open, seal } from './secret-box.js';
import { joinSecrets, maskSecrets, splitSecrets } from './secret-fields.js';

const key = randomBytes(32);

describe('secret box', () => {
  it('seals and opens, never holding the plaintext in the sealed value', () => {
    const sealed = seal('{"url":"postgres://u:hunter2@db/x"}', key, 'tenant-1/warehouse');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(sealed.keyId).toBe(keyIdOf(key));
    expect(open(sealed, key, 'tenant-1/warehouse')).toBe('{"url":"postgres://u:hunter2@db/x"}');
  });

  it('uses a fresh IV every time', () => {
    expect(seal('same', key, 'o').data).not.toBe(seal('same', key, 'o').data);
  });

  it('refuses an altered value, another owner, and another key, with a message that holds no secret', () => {
    const sealed = seal('secret-value', key, 'tenant-1/a');
    const flipped = Buffer.from(sealed.data, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => open({ ...sealed, data: flipped.toString('base64') }, key, 'tenant-1/a')).toThrow(/does not open/);
    expect(() => open(sealed, key, 'tenant-2/a')).toThrow(/does not open/);
    expect(() => open(sealed, randomBytes(32), 'tenant-1/a')).toThrow(/sealed with master key/);
    expect(() => open({ nope: 1 }, key, 'tenant-1/a')).toThrow(/not a sealed value/);
  });
});

describe('secret fields', () => {
  it('split out nested secret paths, join back, and mask for display', () => {
    const config = { baseUrl: 'https://crm.example', auth: { type: 'bearer', token: 't0k' } };
    const { open: clear, secrets } = splitSecrets(config, ['auth.token', 'auth.clientSecret']);
    expect(clear).toEqual({ baseUrl: 'https://crm.example', auth: { type: 'bearer' } });
    expect(secrets).toEqual({ 'auth.token': 't0k' });
    expect(joinSecrets(clear, secrets)).toEqual(config);
    expect(maskSecrets(clear, ['auth.token'])).toEqual({ baseUrl: 'https://crm.example', auth: { type: 'bearer', token: '[encrypted]' } });
    expect(config.auth.token).toBe('t0k');
  });
});
