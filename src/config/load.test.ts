import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error.js';
import { loadConfig } from './load.js';

const KEY = randomBytes(32).toString('base64');

let dir: string;
let devKeyFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanyard-config-'));
  devKeyFile = join(dir, 'nested', 'dev-master-key');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Loads with a throw-away development key file, so no test writes into the checkout. */
function load(env: NodeJS.ProcessEnv) {
  return loadConfig(env, { devKeyFile });
}

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig defaults', () => {
  it('fills in every documented default from an empty environment', () => {
    const config = load({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicBaseUrl: 'http://127.0.0.1:8080',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/lanyard',
      databasePoolMax: 5,
      statementTimeoutMs: 15_000,
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'info',
      production: false,
      scim: {
        maxBodyBytes: 1024 * 1024,
        maxResults: 1000,
        defaultCount: 100,
        tokenDefaultTtlMs: 90 * 86_400_000,
        tokenMaxTtlMs: 400 * 86_400_000,
      },
      trustProxy: 'loopback',
      shutdownGraceMs: 10_000,
    });
    expect(config.masterKey).toHaveLength(32);
  });

  it('reads given values and derives the public base URL from HOST and PORT', () => {
    const config = load({ PORT: '9090', HOST: 'scim.internal', LOG_LEVEL: 'debug', SCIM_TOKEN_DEFAULT_TTL: '12h' });
    expect(config.port).toBe(9090);
    expect(config.publicBaseUrl).toBe('http://scim.internal:9090');
    expect(config.logLevel).toBe('debug');
    expect(config.scim.tokenDefaultTtlMs).toBe(12 * 3_600_000);
  });

  it('advertises 127.0.0.1 rather than 0.0.0.0 in the derived base URL', () => {
    expect(load({ HOST: '0.0.0.0' }).publicBaseUrl).toBe('http://127.0.0.1:8080');
  });

  it('caps the default page size at the maximum page size', () => {
    const config = load({ SCIM_MAX_RESULTS: '50' });
    expect(config.scim.maxResults).toBe(50);
    expect(config.scim.defaultCount).toBe(50);
  });

  it('trims trailing slashes from PUBLIC_BASE_URL', () => {
    expect(load({ PUBLIC_BASE_URL: 'https://lanyard.example.com/base///' }).publicBaseUrl).toBe('https://lanyard.example.com/base');
    expect(load({ PUBLIC_BASE_URL: 'https://lanyard.example.com/' }).publicBaseUrl).toBe('https://lanyard.example.com');
  });

  it('treats empty-string variables as unset', () => {
    const config = load({ PORT: '', LOG_LEVEL: '', DATABASE_URL: '', PUBLIC_BASE_URL: '', SCIM_TOKEN_DEFAULT_TTL: '' });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('info');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/lanyard');
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:8080');
    expect(config.scim.tokenDefaultTtlMs).toBe(90 * 86_400_000);
  });

  it('treats an empty LANYARD_MASTER_KEY as unset: production still refuses to start', () => {
    expect(configErrorOf({ NODE_ENV: 'production', LANYARD_MASTER_KEY: '' }).path).toBe('LANYARD_MASTER_KEY');
  });
});

describe('loadConfig refuses bad values, naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'nope'],
    ['PUBLIC_BASE_URL', 'ftp://lanyard.example.com'],
    ['LOG_LEVEL', 'loud'],
    ['SCIM_TOKEN_DEFAULT_TTL', '5x'],
    ['SCIM_TOKEN_MAX_TTL', '0d'],
    ['SCIM_MAX_RESULTS', '0'],
  ])('%s=%s', (variable, value) => {
    const err = configErrorOf({ [variable]: value });
    expect(err.path).toBe(variable);
    expect(err.code).toBe('invalid_config');
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(48).toString('base64')],
    ['not base64', 'x'.repeat(43) + '!'],
  ])('LANYARD_MASTER_KEY %s, without echoing the value', (_case, value) => {
    const err = configErrorOf({ LANYARD_MASTER_KEY: value });
    expect(err.path).toBe('LANYARD_MASTER_KEY');
    expect(err.message).not.toContain(value);
    expect(err.problem).not.toContain(value);
  });

  it('accepts a well-formed LANYARD_MASTER_KEY as the 32 key bytes', () => {
    const config = load({ LANYARD_MASTER_KEY: KEY, NODE_ENV: 'production' });
    expect(config.production).toBe(true);
    expect(config.masterKey.equals(Buffer.from(KEY, 'base64'))).toBe(true);
  });

  it('refuses a default token lifetime longer than the maximum', () => {
    const err = configErrorOf({ SCIM_TOKEN_DEFAULT_TTL: '500d' });
    expect(err.path).toBe('SCIM_TOKEN_DEFAULT_TTL');
    expect(err.message).toContain('SCIM_TOKEN_MAX_TTL');
    expect(configErrorOf({ SCIM_TOKEN_MAX_TTL: '30d' }).path).toBe('SCIM_TOKEN_DEFAULT_TTL');
  });

  it('accepts a default token lifetime equal to the maximum', () => {
    const config = load({ SCIM_TOKEN_DEFAULT_TTL: '30d', SCIM_TOKEN_MAX_TTL: '30d' });
    expect(config.scim.tokenDefaultTtlMs).toBe(config.scim.tokenMaxTtlMs);
  });

  it('requires LANYARD_MASTER_KEY in production and creates no key file', () => {
    const err = configErrorOf({ NODE_ENV: 'production' });
    expect(err.path).toBe('LANYARD_MASTER_KEY');
    expect(() => statSync(devKeyFile)).toThrow();
  });
});

describe('development master key', () => {
  it('is created once with mode 0600 and re-used by the next load', () => {
    const first = load({ NODE_ENV: 'development' });
    expect(statSync(devKeyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(devKeyFile, 'utf8').trim(), 'base64').equals(first.masterKey)).toBe(true);

    const second = load({});
    expect(second.masterKey.equals(first.masterKey)).toBe(true);
  });

  it('is not used when LANYARD_MASTER_KEY is given', () => {
    const config = load({ LANYARD_MASTER_KEY: KEY });
    expect(config.masterKey.equals(Buffer.from(KEY, 'base64'))).toBe(true);
    expect(() => statSync(devKeyFile)).toThrow();
  });

  it('refuses a key file that does not hold 32 bytes, naming LANYARD_MASTER_KEY', () => {
    load({});
    writeFileSync(devKeyFile, 'c2hvcnQ=\n');
    expect(configErrorOf({}).path).toBe('LANYARD_MASTER_KEY');
  });
});
