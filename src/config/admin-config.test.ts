import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error.js';
import { loadConfig } from './load.js';

// A master key in the environment, so no development key file is written.
const BASE = { LANYARD_MASTER_KEY: randomBytes(32).toString('base64') };
const OIDC = { ADMIN_OIDC_ISSUER: 'https://idp.example.com/oauth2/default', ADMIN_OIDC_AUDIENCE: 'api://lanyard-admin', ADMIN_OIDC_ROLE_MAP: 'ops=msp-admin' };

function problemOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('admin configuration', () => {
  it('defaults to operator keys only, 30-day keys at most 90 days long', () => {
    expect(loadConfig(BASE).admin).toEqual({ keyDefaultTtlMs: 30 * 86_400_000, keyMaxTtlMs: 90 * 86_400_000, oidc: undefined });
  });

  it('reads the OIDC settings, with the role claim defaulting to groups', () => {
    const { oidc } = loadConfig({ ...BASE, ...OIDC, ADMIN_OIDC_ROLE_MAP: 'ops=msp-admin, acme-admins=tenant-admin:acme' }).admin;
    expect(oidc).toMatchObject({ issuer: OIDC.ADMIN_OIDC_ISSUER, audience: 'api://lanyard-admin', roleClaim: 'groups' });
    expect([...oidc!.roleMap]).toEqual([
      ['ops', { role: 'msp-admin', tenants: [] }],
      ['acme-admins', { role: 'tenant-admin', tenants: ['acme'] }],
    ]);
    expect(loadConfig({ ...BASE, ...OIDC, ADMIN_OIDC_ROLE_CLAIM: 'roles' }).admin.oidc?.roleClaim).toBe('roles');
  });

  it('allows plain http to a loopback issuer only', () => {
    expect(loadConfig({ ...BASE, ...OIDC, ADMIN_OIDC_ISSUER: 'http://127.0.0.1:9000' }).admin.oidc?.issuer).toBe('http://127.0.0.1:9000');
    expect(loadConfig({ ...BASE, ...OIDC, ADMIN_OIDC_ISSUER: 'http://localhost:9000' }).admin.oidc).toBeDefined();
    expect(problemOf({ ...OIDC, ADMIN_OIDC_ISSUER: 'http://idp.example.com' })).toMatch(/^ADMIN_OIDC_ISSUER: plain http only/);
    expect(problemOf({ ...OIDC, ADMIN_OIDC_ISSUER: 'idp.example.com' })).toMatch(/^ADMIN_OIDC_ISSUER: expected a URL/);
  });

  it('takes the OIDC settings together or not at all', () => {
    expect(problemOf({ ...OIDC, ADMIN_OIDC_AUDIENCE: undefined })).toBe('ADMIN_OIDC_AUDIENCE: is required with ADMIN_OIDC_ISSUER');
    expect(problemOf({ ...OIDC, ADMIN_OIDC_ROLE_MAP: '' })).toBe('ADMIN_OIDC_ROLE_MAP: is required with ADMIN_OIDC_ISSUER');
    expect(problemOf({ ADMIN_OIDC_AUDIENCE: 'api://lanyard-admin' })).toBe('ADMIN_OIDC_AUDIENCE: is set but ADMIN_OIDC_ISSUER is not');
  });

  it('names the entry of a bad role map', () => {
    expect(problemOf({ ...OIDC, ADMIN_OIDC_ROLE_MAP: 'ops=msp-admin,acme=tenant-admin' })).toBe(
      'ADMIN_OIDC_ROLE_MAP: entry 2 ("acme=tenant-admin"): tenant-admin needs its tenants, e.g. tenant-admin:acme or tenant-admin:acme+globex',
    );
  });

  it('bounds key lifetimes', () => {
    expect(problemOf({ OPERATOR_KEY_MAX_TTL: '366d' })).toBe('OPERATOR_KEY_MAX_TTL: at most 365d');
    expect(problemOf({ OPERATOR_KEY_DEFAULT_TTL: '100d' })).toBe('OPERATOR_KEY_DEFAULT_TTL: is longer than OPERATOR_KEY_MAX_TTL');
  });
});
