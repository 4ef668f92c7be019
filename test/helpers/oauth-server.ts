import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

/**
 * A real OAuth 2.0 authorization server (oidc-provider) on a local port, issuing client-credentials
 * tokens to one client, and able to tell a resource server whether a token is valid, as introspection
 * would.
 */
export interface OAuthServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Token requests it answered. */
  tokenRequests: number;
  /** Whether `token` is one it issued and that is neither expired nor revoked. */
  valid(token: string): Promise<boolean>;
  /** Revokes every token issued so far, as an operator revoking a compromised client would. */
  revokeAll(): Promise<void>;
  /**
   * A JWT access token (RFC 9068, via a resource indicator) for `audience`, carrying `claims` (e.g.
   * `groups`), valid for `ttlSeconds` (default `tokenTtlSeconds`). Only with `jwtAccessTokens`.
   */
  jwtAccessToken(request: { audience: string; claims?: Record<string, unknown>; ttlSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startOAuthServer(opts: { tokenTtlSeconds: number; scope?: string; jwtAccessTokens?: boolean }): Promise<OAuthServer> {
  const clientId = `lanyard-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const issued = new Set<string>();
  const ready = createServer();
  ready.listen(0, '127.0.0.1');
  await once(ready, 'listening');
  const port = (ready.address() as { port: number }).port;
  ready.close();
  const issuer = `http://127.0.0.1:${port}`;
  // What the JWT access token being requested should carry; requests are serialised so each gets its own.
  let nextJwt: { claims: Record<string, unknown>; ttlSeconds: number } = { claims: {}, ttlSeconds: opts.tokenTtlSeconds };
  let jwtQueue: Promise<unknown> = Promise.resolve();
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      ...(opts.jwtAccessTokens
        ? {
            resourceIndicators: {
              enabled: true,
              defaultResource: () => undefined,
              getResourceServerInfo: (_ctx, resource) => ({
                scope: opts.scope ?? '',
                audience: resource,
                accessTokenFormat: 'jwt' as const,
                accessTokenTTL: nextJwt.ttlSeconds,
                jwt: { sign: { alg: 'RS256' as const } },
              }),
            },
          }
        : {}),
    },
    ...(opts.jwtAccessTokens ? { extraTokenClaims: () => nextJwt.claims } : {}),
    scopes: opts.scope ? [opts.scope] : [],
    ttl: { ClientCredentials: opts.tokenTtlSeconds },
    // A key of its own rather than the provider's built-in development keys.
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
  });
  const state: OAuthServer = {
    issuer,
    clientId,
    clientSecret,
    tokenRequests: 0,
    async valid(token) {
      const found = await provider.ClientCredentials.find(token);
      return Boolean(found && !found.isExpired);
    },
    async revokeAll() {
      for (const token of issued) await (await provider.ClientCredentials.find(token))?.destroy();
    },
    jwtAccessToken(request) {
      if (!opts.jwtAccessTokens) throw new Error('started without jwtAccessTokens');
      const issue = jwtQueue.then(async () => {
        nextJwt = { claims: request.claims ?? {}, ttlSeconds: request.ttlSeconds ?? opts.tokenTtlSeconds };
        const response = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', resource: request.audience }),
        });
        const body = (await response.json()) as { access_token?: string; error?: string };
        if (!response.ok || !body.access_token) throw new Error(`token request refused: ${response.status} ${body.error ?? ''}`);
        return body.access_token;
      });
      jwtQueue = issue.catch(() => {});
      return issue;
    },
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
  provider.on('client_credentials.saved', (token: { jti: string }) => {
    issued.add(token.jti);
  });
  const handler = provider.callback();
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/token')) state.tokenRequests += 1;
    handler(req, res);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return state;
}
