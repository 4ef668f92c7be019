import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/config-error.js';
import { type AdminOidcConfig, type Config, type Env, envSchema } from './schema.js';

const DEV_KEY_FILE = '.lanyard/dev-master-key';

/**
 * Reads and validates the whole configuration once, at start. The first bad value stops the start with
 * a ConfigError naming the variable; its value is not echoed, since it may be a secret.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { devKeyFile?: string } = {}): Config {
  // An empty variable means "not set": shells and compose files often export KEY= by accident.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (e.SCIM_TOKEN_DEFAULT_TTL > e.SCIM_TOKEN_MAX_TTL) {
    throw new ConfigError('SCIM_TOKEN_DEFAULT_TTL', 'is longer than SCIM_TOKEN_MAX_TTL');
  }
  if (e.OPERATOR_KEY_DEFAULT_TTL > e.OPERATOR_KEY_MAX_TTL) {
    throw new ConfigError('OPERATOR_KEY_DEFAULT_TTL', 'is longer than OPERATOR_KEY_MAX_TTL');
  }
  const oidc = adminOidc(e);
  let masterKey: Buffer | undefined = e.LANYARD_MASTER_KEY;
  if (!masterKey) {
    if (production) throw new ConfigError('LANYARD_MASTER_KEY', 'is required when NODE_ENV=production');
    masterKey = developmentMasterKey(opts.devKeyFile ?? DEV_KEY_FILE);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    redisUrl: e.REDIS_URL,
    masterKey,
    logLevel: e.LOG_LEVEL,
    production,
    scim: {
      maxBodyBytes: e.SCIM_MAX_BODY_BYTES,
      maxResults: e.SCIM_MAX_RESULTS,
      defaultCount: Math.min(e.SCIM_DEFAULT_COUNT, e.SCIM_MAX_RESULTS),
      tokenDefaultTtlMs: e.SCIM_TOKEN_DEFAULT_TTL,
      tokenMaxTtlMs: e.SCIM_TOKEN_MAX_TTL,
      rateLimitPerSecond: e.SCIM_RATE_LIMIT,
      rateBurst: e.SCIM_RATE_BURST,
    },
    trustProxy: e.TRUST_PROXY,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    jobs: {
      queuePrefix: e.QUEUE_PREFIX,
      reconcileConcurrency: e.WORKER_RECONCILE_CONCURRENCY,
      grantConcurrency: e.WORKER_GRANT_CONCURRENCY,
      revokeConcurrency: e.WORKER_REVOKE_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffBaseMs: e.JOB_BACKOFF_BASE,
      backoffMaxMs: e.JOB_BACKOFF_MAX,
      rateLimitPauseMs: e.RATE_LIMIT_PAUSE,
      lockMs: e.WORKER_LOCK_MS,
      sweepIntervalMs: e.SWEEP_INTERVAL,
      sweepGraceMs: e.SWEEP_GRACE,
      lifecycleIntervalMs: e.LIFECYCLE_INTERVAL,
      inactivityCheckIntervalMs: e.INACTIVITY_CHECK_INTERVAL,
    },
    audit: {
      signingKeyFile: e.AUDIT_SIGNING_KEY_FILE,
      checkpointDir: e.AUDIT_CHECKPOINT_DIR,
      checkpointIntervalMs: e.AUDIT_CHECKPOINT_INTERVAL,
    },
    admin: { keyDefaultTtlMs: e.OPERATOR_KEY_DEFAULT_TTL, keyMaxTtlMs: e.OPERATOR_KEY_MAX_TTL, oidc, manifestDir: e.ADMIN_MANIFEST_DIR },
  };
}

/** The OIDC settings go together: an issuer without an audience or a role map would accept too much or nobody. */
function adminOidc(e: Env): AdminOidcConfig | undefined {
  if (!e.ADMIN_OIDC_ISSUER) {
    for (const name of ['ADMIN_OIDC_AUDIENCE', 'ADMIN_OIDC_ROLE_MAP'] as const) {
      if (e[name] !== undefined) throw new ConfigError(name, 'is set but ADMIN_OIDC_ISSUER is not');
    }
    return undefined;
  }
  if (!e.ADMIN_OIDC_AUDIENCE) throw new ConfigError('ADMIN_OIDC_AUDIENCE', 'is required with ADMIN_OIDC_ISSUER');
  if (!e.ADMIN_OIDC_ROLE_MAP) throw new ConfigError('ADMIN_OIDC_ROLE_MAP', 'is required with ADMIN_OIDC_ISSUER');
  return { issuer: e.ADMIN_OIDC_ISSUER, audience: e.ADMIN_OIDC_AUDIENCE, roleClaim: e.ADMIN_OIDC_ROLE_CLAIM, roleMap: e.ADMIN_OIDC_ROLE_MAP };
}

/** A key kept beside the checkout so a developer's encrypted secrets survive restarts. Never used in production. */
function developmentMasterKey(file: string): Buffer {
  try {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length === 32) return key;
    throw new ConfigError('LANYARD_MASTER_KEY', `${file} does not hold 32 base64-encoded bytes; delete it or set the variable`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
