import { z } from 'zod';
import { parseRoleMap, type RoleMap } from '../operators/oidc-role-map.js';
import { parseDuration } from './duration.js';

/**
 * Every setting Lanyard reads, its environment variable, and its default. This is the one place defaults
 * live; the README's configuration table mirrors it.
 */
const duration = (name: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 90d, 12h or 30m, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  }).describe(name);

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const url = (protocols: readonly string[]) =>
  z.string().refine((text) => {
    try {
      return protocols.includes(new URL(text).protocol);
    } catch {
      return false;
    }
  }, `expected a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);

/** TLS, except to this machine (a local issuer in development and tests). An unparsable URL is the url check's to report. */
function httpsOrLoopback(text: string): boolean {
  try {
    const parsed = new URL(text);
    return parsed.protocol !== 'http:' || ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  } catch {
    return true;
  }
}

const masterKey = z
  .string()
  .refine((text) => /^[A-Za-z0-9+/]{43}=$/.test(text) && Buffer.from(text, 'base64').length === 32, {
    message: 'expected 32 random bytes, base64-encoded (openssl rand -base64 32)',
  })
  .transform((text) => Buffer.from(text, 'base64'));

export const envSchema = z.object({
  /** Port the HTTP service listens on. */
  PORT: integer(0, 65535).default(8080),
  /** Address to bind; 127.0.0.1 by default so nothing is exposed until a proxy or operator says so. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Base URL clients reach Lanyard at; used in `meta.location` and the SCIM base URLs Lanyard prints. */
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
  /** PostgreSQL connection of the schema owner: creates the database if missing and runs migrations. */
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/lanyard'),
  /**
   * Connections per process. Small on purpose: past about twice the database's cores, more connections
   * only add contention (measured: 5 beat 10 by a fifth on SCIM writes against a 2-core PostgreSQL).
   */
  DATABASE_POOL_MAX: integer(1, 200).default(5),
  /** Upper bound on any one statement, so a pathological filter cannot hold a connection. */
  DATABASE_STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(15_000),
  /** Redis for the job queues and readiness. */
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /**
   * 32 random bytes, base64: the key that encrypts connector secrets. Required in production; elsewhere a
   * development key is created once in `.lanyard/dev-master-key` if none is given.
   */
  LANYARD_MASTER_KEY: masterKey.optional(),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
  /** Largest SCIM request body accepted; larger gets 413. */
  SCIM_MAX_BODY_BYTES: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Largest page a list or search returns (`count` is capped here and advertised as `filter.maxResults`). */
  SCIM_MAX_RESULTS: integer(1, 10_000).default(1000),
  /** Page size of a list or search that names no `count`. */
  SCIM_DEFAULT_COUNT: integer(1, 10_000).default(100),
  /**
   * Sustained SCIM requests per second one tenant may make, across every service process sharing the
   * Redis; past it the IdP gets 429 with Retry-After. 0 means unlimited. The default is above what one
   * service process serves a single tenant on a 2-core machine (measured at 16 connections: about 430 user
   * creations or 1,500 lookups a second), so a one-process deployment and the benchmarks never meet it; with
   * several processes it keeps one tenant to about one process's worth. Set it to what one tenant should
   * get of the deployment's capacity.
   */
  SCIM_RATE_LIMIT: integer(0, 1_000_000).default(2000),
  /**
   * Requests one tenant may make at once after being quiet (the bucket's size): an IdP's cycle starts with a
   * burst of reads, which should not be cut to the sustained rate. Two seconds' worth by default.
   */
  SCIM_RATE_BURST: integer(1, 10_000_000).default(4000),
  /** Lifetime of a SCIM bearer token when `--ttl` is not given. */
  SCIM_TOKEN_DEFAULT_TTL: duration('SCIM_TOKEN_DEFAULT_TTL').default(parseDuration('90d')!),
  /** Longest lifetime a SCIM bearer token may be issued with: no token is unbounded. */
  SCIM_TOKEN_MAX_TTL: duration('SCIM_TOKEN_MAX_TTL').default(parseDuration('400d')!),
  /** Express `trust proxy`, so request logs carry the client address behind a load balancer. */
  TRUST_PROXY: z.string().default('loopback'),
  /** How long a stopping process waits for in-flight requests. */
  SHUTDOWN_GRACE_MS: integer(0, 600_000).default(10_000),
  /**
   * Prefix of every Redis key the job queues use, so several deployments (or test runs) can share one
   * Redis without seeing each other's work.
   */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'expected 1–40 letters, digits, "_" or "-"').default('lanyard'),
  /** Users reconciled at once per worker process: database work only, so about the pool size. */
  WORKER_RECONCILE_CONCURRENCY: integer(1, 100).default(4),
  /** Downstream calls that grant access in flight at once per worker process (mostly waiting on the network). */
  WORKER_GRANT_CONCURRENCY: integer(1, 500).default(50),
  /** Downstream calls that take access away, on their own lane so they never wait behind grants. */
  WORKER_REVOKE_CONCURRENCY: integer(1, 500).default(20),
  /** Attempts of one downstream job on `unavailable` (5xx, timeouts) before it is parked as failed. */
  JOB_ATTEMPTS: integer(1, 50).default(8),
  /** First retry delay; each later one doubles, with ±50 % jitter, up to JOB_BACKOFF_MAX. */
  JOB_BACKOFF_BASE: duration('JOB_BACKOFF_BASE').default(parseDuration('2s')!),
  JOB_BACKOFF_MAX: duration('JOB_BACKOFF_MAX').default(parseDuration('5m')!),
  /** How long a connector pauses after a 429 that names no Retry-After. */
  RATE_LIMIT_PAUSE: duration('RATE_LIMIT_PAUSE').default(parseDuration('5s')!),
  /**
   * A job whose worker stops renewing its lock for this long (a crash, SIGKILL) is handed to another
   * worker. Short enough for quick recovery, long enough that a busy event loop does not lose its jobs.
   */
  WORKER_LOCK_MS: integer(1000, 600_000).default(30_000),
  /** How often each worker re-creates, from PostgreSQL, any pending work Redis has lost. */
  SWEEP_INTERVAL: duration('SWEEP_INTERVAL').default(parseDuration('30s')!),
  /** Work younger than this is left to the enqueue that follows its commit. */
  SWEEP_GRACE: duration('SWEEP_GRACE').default(parseDuration('10s')!),
  /**
   * How often the lifecycle schedule looks for what is due (grants at their end, approvals past their
   * deadline). One run per interval across all worker processes; a run missed while none was up is caught
   * up by the next, since it looks at what is due rather than at what happened since the last run.
   */
  LIFECYCLE_INTERVAL: duration('LIFECYCLE_INTERVAL').default(parseDuration('1m')!),
  /**
   * How often connectors that can tell are asked when each account was last used, for policies with an
   * inactivity rule. Revocation for inactivity happens within this much of the period running out.
   */
  INACTIVITY_CHECK_INTERVAL: duration('INACTIVITY_CHECK_INTERVAL').default(parseDuration('1h')!),

  // --- Audit checkpoints -------------------------------------------------------------------------------
  /**
   * PEM file holding the Ed25519 private key that signs audit checkpoints. It lives outside the database
   * on purpose: whoever can rewrite the audit tables must not also be able to sign a matching checkpoint.
   * Without it, checkpoints are not written; verification can still use a public key given on the command line.
   */
  AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Directory signed checkpoints are written to (one JSON file per tenant and sequence number). */
  AUDIT_CHECKPOINT_DIR: z.string().min(1).optional(),
  /** How often a checkpoint is taken of every tenant whose chain moved since its last one. */
  AUDIT_CHECKPOINT_INTERVAL: duration('AUDIT_CHECKPOINT_INTERVAL').default(parseDuration('15m')!),

  // --- Operators of the admin API --------------------------------------------------------------------
  /**
   * Directory from which manifests sent to the admin API (PUT /admin/v1/tenants/{slug}/manifest) may read
   * `{ file }` references (secrets, the policy), relative to it and never outside it. Unset: such
   * manifests give secrets as `{ env }` references only. The CLI reads files next to the manifest instead.
   */
  ADMIN_MANIFEST_DIR: z.string().min(1).optional(),
  /** Lifetime of an operator API key when `--ttl` is not given. Shorter than a SCIM token's: a key spans tenants. */
  OPERATOR_KEY_DEFAULT_TTL: duration('OPERATOR_KEY_DEFAULT_TTL').default(parseDuration('30d')!),
  /** Longest lifetime an operator API key may be issued with; the database refuses more than 365 days whatever this says. */
  OPERATOR_KEY_MAX_TTL: duration('OPERATOR_KEY_MAX_TTL')
    .refine((ms) => ms <= parseDuration('365d')!, 'at most 365d')
    .default(parseDuration('90d')!),
  /**
   * OpenID Connect issuer whose JWT access tokens the admin API accepts as `Authorization: Bearer`. Its
   * discovery document and keys are fetched from it, so TLS is required except on this machine. Unset:
   * operator API keys only. Setting it requires ADMIN_OIDC_AUDIENCE and ADMIN_OIDC_ROLE_MAP.
   */
  ADMIN_OIDC_ISSUER: url(['http:', 'https:'])
    .refine(httpsOrLoopback, 'plain http only to localhost, 127.0.0.1 or [::1]; use https')
    .optional(),
  /** The `aud` a token must carry: the identifier the IdP gives the admin API (never a client id of another app). */
  ADMIN_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The claim holding the operator's groups (or roles): an array of strings, or one string. */
  ADMIN_OIDC_ROLE_CLAIM: z.string().min(1).default('groups'),
  /** Which claim values make which operator; syntax in src/operators/oidc-role-map.ts. */
  ADMIN_OIDC_ROLE_MAP: z
    .string()
    .transform((text, ctx) => {
      const parsed = parseRoleMap(text);
      if (parsed.ok) return parsed.map;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    })
    .optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  publicBaseUrl: string;
  databaseUrl: string;
  databasePoolMax: number;
  statementTimeoutMs: number;
  redisUrl: string;
  masterKey: Buffer;
  logLevel: Env['LOG_LEVEL'];
  production: boolean;
  scim: {
    maxBodyBytes: number;
    maxResults: number;
    defaultCount: number;
    tokenDefaultTtlMs: number;
    tokenMaxTtlMs: number;
    /** Per-tenant requests per second; 0 means unlimited. */
    rateLimitPerSecond: number;
    rateBurst: number;
  };
  trustProxy: string;
  shutdownGraceMs: number;
  jobs: JobsConfig;
  audit: AuditConfig;
  admin: AdminConfig;
}

export interface JobsConfig {
  queuePrefix: string;
  reconcileConcurrency: number;
  grantConcurrency: number;
  revokeConcurrency: number;
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  rateLimitPauseMs: number;
  lockMs: number;
  sweepIntervalMs: number;
  sweepGraceMs: number;
  lifecycleIntervalMs: number;
  inactivityCheckIntervalMs: number;
}

/** Signed audit checkpoints; see AUDIT_SIGNING_KEY_FILE. */
export interface AuditConfig {
  /** Path of the Ed25519 private key (PEM); the key itself is read only by what signs or verifies. */
  signingKeyFile: string | undefined;
  checkpointDir: string | undefined;
  checkpointIntervalMs: number;
}

/** Who may call the admin API, and how they prove it. */
export interface AdminConfig {
  keyDefaultTtlMs: number;
  keyMaxTtlMs: number;
  /** Unset: operator API keys only. */
  oidc: AdminOidcConfig | undefined;
  /** ADMIN_MANIFEST_DIR. */
  manifestDir: string | undefined;
}

export interface AdminOidcConfig {
  issuer: string;
  audience: string;
  roleClaim: string;
  roleMap: RoleMap;
}
