import * as oidc from 'openid-client';
import { ConnectorError } from '../kit/connector-error.js';
import { errorFromNetwork } from '../kit/http-status.js';
import type { ScimConfig } from './config.js';

/** Where the bearer token of each downstream call comes from. */
export interface AccessTokens {
  /** A token to use now. */
  current(): Promise<string>;
  /** Called after a 401 with the token that was refused: a fresh one if there can be one, else null. */
  renew(refused: string): Promise<string | null>;
}

/** Renew a tenth of the lifetime (at most 30 s) before the server's stated expiry, so a token never expires in flight. */
const EXPIRY_MARGIN_MAX_MS = 30_000;

export function accessTokens(auth: ScimConfig['auth'], timeoutMs: number): AccessTokens {
  if (auth.type === 'bearer') return { current: async () => auth.token, renew: async () => null };
  return new ClientCredentials(auth, timeoutMs);
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) through openid-client: the issuer is discovered once, the
 * token is cached until shortly before it expires, and concurrent calls share one token request.
 */
class ClientCredentials implements AccessTokens {
  private configuration: Promise<oidc.Configuration> | undefined;
  private token: Promise<{ value: string; renewAt: number }> | undefined;

  constructor(
    private readonly auth: Extract<ScimConfig['auth'], { type: 'oauth2' }>,
    private readonly timeoutMs: number,
  ) {}

  async current(): Promise<string> {
    const cached = this.token ? await this.token.catch(() => null) : null;
    if (cached && cached.renewAt > Date.now()) return cached.value;
    return (await this.fetch()).value;
  }

  async renew(refused: string): Promise<string | null> {
    const cached = this.token ? await this.token.catch(() => null) : null;
    // Another call already replaced the refused token.
    if (cached && cached.value !== refused) return cached.value;
    return (await this.fetch()).value;
  }

  private fetch(): Promise<{ value: string; renewAt: number }> {
    const pending = (async () => {
      const config = await this.discover();
      try {
        const response = await oidc.clientCredentialsGrant(config, this.auth.scope ? { scope: this.auth.scope } : {});
        const lifetimeMs = (response.expiresIn() ?? 300) * 1000;
        return { value: response.access_token, renewAt: Date.now() + lifetimeMs - Math.min(EXPIRY_MARGIN_MAX_MS, lifetimeMs / 10) };
      } catch (err) {
        throw translate(err, 'token request');
      }
    })();
    this.token = pending;
    return pending;
  }

  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= (async () => {
      const issuer = new URL(this.auth.issuer);
      try {
        return await oidc.discovery(issuer, this.auth.clientId, this.auth.clientSecret, undefined, {
          timeout: Math.ceil(this.timeoutMs / 1000),
          // Plain HTTP only to this machine (a local authorization server); anywhere else TLS is required.
          ...(issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? { execute: [oidc.allowInsecureRequests] } : {}),
        });
      } catch (err) {
        throw translate(err, 'issuer discovery');
      }
    })();
    // A failed discovery is tried again on the next call rather than remembered.
    this.configuration.catch(() => {
      this.configuration = undefined;
    });
    return this.configuration;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** Authorization-server failures to the closed codes; the server's text is not copied (it may echo input). */
function translate(err: unknown, what: string): ConnectorError {
  const network = errorFromNetwork(err, `oauth2 ${what}`);
  if (network instanceof ConnectorError) return network;
  if (err instanceof oidc.ResponseBodyError) {
    if (err.status >= 500) return new ConnectorError('unavailable', `oauth2 ${what}: the authorization server answered ${err.status}`);
    return new ConnectorError('auth_failed', `oauth2 ${what}: refused (${err.error})`);
  }
  const status = (err as { status?: number; cause?: { status?: number } }).status ?? (err as { cause?: { status?: number } }).cause?.status;
  if (typeof status === 'number' && status >= 500) return new ConnectorError('unavailable', `oauth2 ${what}: the authorization server answered ${status}`);
  const code = (err as { code?: string }).code;
  return new ConnectorError(code === 'OAUTH_TIMEOUT' ? 'unavailable' : 'auth_failed', `oauth2 ${what} failed${code ? ` (${code})` : ''}`);
}
