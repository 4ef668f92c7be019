import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DownstreamApp, type DownstreamScim, startDownstreamScim } from '../../test/helpers/downstream-scim.js';
import { type OAuthServer, startOAuthServer } from '../../test/helpers/oauth-server.js';
import { connectorConformance } from '../kit/conformance.js';
import type { Connector } from '../kit/contract.js';
import { scimConnector } from './index.js';

/**
 * The scim connector authenticating with OAuth 2.0 client credentials: tokens from a real authorization
 * server (oidc-provider) on a local port, presented to a real SCIM application that accepts only those.
 */
let oauth: OAuthServer;
let shortLived: OAuthServer;
let saas: DownstreamScim;
let app: DownstreamApp;
let strict: DownstreamApp;
const log = { debug() {}, info() {}, warn() {} };

function connector(server: OAuthServer, target: DownstreamApp, secret = server.clientSecret): Connector {
  return scimConnector.create(
    scimConnector.configSchema.parse({
      baseUrl: target.config.baseUrl,
      auth: { type: 'oauth2', issuer: server.issuer, clientId: server.clientId, clientSecret: secret, scope: 'scim' },
    }),
    { log },
  );
}

async function setUp(): Promise<void> {
  if (app) return;
  oauth = await startOAuthServer({ tokenTtlSeconds: 600, scope: 'scim' });
  shortLived = await startOAuthServer({ tokenTtlSeconds: 2, scope: 'scim' });
  saas = await startDownstreamScim();
  app = await saas.app('crm-oauth', ['Viewers', 'Editors']);
  app.acceptToken = (token) => oauth.valid(token);
  strict = await saas.app('crm-short', ['Viewers']);
  strict.acceptToken = (token) => shortLived.valid(token);
}

beforeAll(setUp, 60_000);
afterAll(async () => {
  await saas?.close();
  await oauth?.close();
  await shortLived?.close();
});

connectorConformance('scim over oauth2', async () => {
  await setUp();
  return {
    connector: connector(oauth, app),
    entitlements: ['group:Viewers', 'group:Editors'],
    unknownEntitlement: 'group:Nope',
    newAccount: () => {
      const userId = randomUUID();
      return { userId, userName: `oauth.${userId.slice(0, 8)}@globex.example` };
    },
    inspect: (ref) => app.view(ref.id),
  };
});

describe('scim connector with OAuth 2.0 client credentials', () => {
  it('fetches one token and reuses it while it is valid', async () => {
    const c = connector(oauth, app);
    const before = oauth.tokenRequests;
    await c.verify();
    await c.entitlements.list();
    await c.accounts!.ensure({ userId: randomUUID(), userName: `reuse.${randomUUID().slice(0, 6)}@globex.example` }, { idempotencyKey: 'r' });
    expect(oauth.tokenRequests - before).toBe(1);
  });

  it('reads the activity attribute with the same OAuth token as every other call', async () => {
    const c = scimConnector.create(
      scimConnector.configSchema.parse({
        baseUrl: app.config.baseUrl,
        auth: { type: 'oauth2', issuer: oauth.issuer, clientId: oauth.clientId, clientSecret: oauth.clientSecret, scope: 'scim' },
        // The server's own modification time: a date-time every user carries, enough to show the call gets through.
        activityAttribute: 'meta.lastModified',
      }),
      { log },
    );
    const before = oauth.tokenRequests;
    const { value } = await c.accounts!.ensure({ userId: randomUUID(), userName: `active.${randomUUID().slice(0, 6)}@globex.example` }, { idempotencyKey: 'l' });
    const seen = await c.lastActivity!(value);
    expect(Date.now() - seen!.getTime()).toBeLessThan(60_000);
    expect(oauth.tokenRequests - before).toBe(1);
  });

  it('fetches a new token once the old one has expired', async () => {
    const c = connector(shortLived, strict);
    const before = shortLived.tokenRequests;
    await c.verify();
    await new Promise((r) => setTimeout(r, 2_500));
    await c.verify();
    expect(shortLived.tokenRequests - before).toBe(2);
  });

  it('answers a 401 with one fresh token and a second try', async () => {
    const c = connector(oauth, app);
    await c.verify();
    const before = oauth.tokenRequests;
    const refusedBefore = app.requests.length;
    await oauth.revokeAll();
    await c.entitlements.list();
    expect(oauth.tokenRequests - before).toBe(1);
    // The refused call and its retry, nothing more.
    expect(app.requests.length - refusedBefore).toBeGreaterThanOrEqual(2);
  });

  it('reports a refused client secret as auth_failed, without the secret', async () => {
    const c = connector(oauth, app, 'not-the-secret');
    const err = await c.verify().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'ConnectorError', code: 'auth_failed' });
    expect(String((err as Error).message)).not.toContain('not-the-secret');
  });

  it('refuses plain HTTP to an issuer that is not on this machine', () => {
    const c = scimConnector.create(
      scimConnector.configSchema.parse({ baseUrl: app.config.baseUrl, auth: { type: 'oauth2', issuer: 'http://idp.example.com', clientId: 'x', clientSecret: 'y' } }),
      { log },
    );
    return expect(c.verify()).rejects.toMatchObject({ name: 'ConnectorError' });
  });
});
