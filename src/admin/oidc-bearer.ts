import { createRemoteJWKSet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import type { AdminOidcConfig } from '../config/schema.js';
import type { Operator } from '../operators/operator.js';
import { resolveRole } from '../operators/oidc-role-map.js';

/** Enough for the skew between two NTP-synchronised clocks, too little to matter for a token's lifetime. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Signatures by the issuer's published keys only: a symmetric algorithm would need a secret Lanyard does not hold. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const NAME_MAX = 100;

/** jose's codes for a key set it could not get or use; `ERR_JOSE_GENERIC` is its answer to a non-200 response. */
const ISSUER_TROUBLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

export type BearerVerification =
  | { ok: true; operator: Operator }
  /** `invalid`: not a token of this issuer for this API, or no longer valid. `no_role`: valid, but no claim value maps to a role. */
  | { ok: false; reason: 'invalid' | 'expired' | 'no_role'; detail: string };

/** The issuer could not be reached (discovery or its keys): the request can be tried again, the token may be fine. */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
  readonly code = 'issuer_unavailable';
}

export interface OidcBearerOptions {
  /** The verifying clock; tests move it to see a token expire. */
  now?: () => Date;
  timeoutMs?: number;
}

/**
 * Verifies JWT access tokens of the configured issuer: signature by a key of the issuer's JWK Set, `iss`,
 * `aud`, `exp` (and `nbf`) with a small clock tolerance, then maps the role claim to an operator. The
 * issuer is discovered once through openid-client; jose keeps the key set, and fetches it again when a
 * token names a key it has not seen (the issuer rotated its keys).
 */
export class OidcBearerVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(
    private readonly config: AdminOidcConfig,
    private readonly opts: OidcBearerOptions = {},
  ) {}

  async verify(token: string): Promise<BearerVerification> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
        ...(this.opts.now ? { currentDate: this.opts.now() } : {}),
      }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // What is not a verdict on the token (the key set unreachable, slow or malformed) is the issuer's trouble.
      if (typeof code !== 'string' || ISSUER_TROUBLE.has(code)) {
        throw new IssuerUnavailableError('the OIDC issuer\'s keys could not be fetched', { cause: err });
      }
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'expired', detail: 'the bearer token has expired' };
      return { ok: false, reason: 'invalid', detail: 'the bearer token is not valid for this API' };
    }
    const name = displayName(payload);
    const grant = resolveRole(this.config.roleMap, claimValues(payload[this.config.roleClaim]));
    if (!grant) {
      return { ok: false, reason: 'no_role', detail: `signed in as ${name}, but no value of the "${this.config.roleClaim}" claim maps to a Lanyard role (ADMIN_OIDC_ROLE_MAP)` };
    }
    return {
      ok: true,
      operator: { id: payload.sub!, name, via: 'oidc', role: grant.role, tenants: grant.role === 'tenant-admin' ? grant.tenants : 'all' },
    };
  }

  private keySet(): Promise<JWTVerifyGetKey> {
    this.keys ??= (async () => {
      const issuer = new URL(this.config.issuer);
      let metadata: oidc.ServerMetadata;
      try {
        // openid-client wants a client id; Lanyard is the resource server here and never acts as that client.
        const configuration = await oidc.discovery(issuer, this.config.audience, undefined, undefined, {
          timeout: Math.ceil((this.opts.timeoutMs ?? 5_000) / 1000),
          // Plain HTTP only to this machine (a local issuer); anywhere else TLS is required (see ADMIN_OIDC_ISSUER).
          ...(issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? { execute: [oidc.allowInsecureRequests] } : {}),
        });
        metadata = configuration.serverMetadata();
      } catch (err) {
        throw new IssuerUnavailableError(`OIDC discovery of ${this.config.issuer} failed`, { cause: err });
      }
      if (!metadata.jwks_uri) throw new IssuerUnavailableError(`${this.config.issuer} publishes no jwks_uri`);
      const jwksUri = new URL(metadata.jwks_uri);
      if (jwksUri.protocol !== 'https:' && !(jwksUri.protocol === 'http:' && isLoopback(jwksUri.hostname))) {
        throw new IssuerUnavailableError(`${this.config.issuer} publishes its keys without TLS`);
      }
      return createRemoteJWKSet(jwksUri, { timeoutDuration: this.opts.timeoutMs ?? 5_000 });
    })();
    // A failed discovery is tried again on the next request rather than remembered.
    this.keys.catch(() => {
      this.keys = undefined;
    });
    return this.keys;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** The role claim as a list: IdPs send an array of groups, or a single string. */
function claimValues(claim: unknown): string[] {
  if (typeof claim === 'string') return [claim];
  return Array.isArray(claim) ? claim.filter((v): v is string => typeof v === 'string') : [];
}

/** For logs and actor strings: the most readable identifier the token carries, without control characters. */
function displayName(payload: JWTPayload): string {
  const candidate = [payload['preferred_username'], payload['email'], payload.sub].find((v): v is string => typeof v === 'string' && v.length > 0)!;
  // eslint-disable-next-line no-control-regex
  return candidate.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, NAME_MAX);
}
