import express, { type Request, type Response, Router } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { ScimError } from '../../errors/scim-error.js';
import type { Logger } from '../../log/logger.js';
import { resourceType, resourceTypes, schema, schemas, serviceProviderConfig } from '../discovery/discovery.js';
import { etagOf } from '../etag.js';
import { GroupService } from '../groups/group-service.js';
import { renderGroup } from '../groups/render-group.js';
import { type ListParams, parseListParams } from '../list-params.js';
import { Projector } from '../projection.js';
import { resourceCatalogs } from '../resource-catalogs.js';
import { CORE_GROUP, CORE_USER, LIST_RESPONSE, SEARCH_REQUEST, USER_EXTENSIONS } from '../schemas.js';
import { renderUser } from '../users/render-user.js';
import { UserService } from '../users/user-service.js';
import type { OnUsersMarked } from '../../store/reconcile-outbox.js';
import { authenticate, tenantContext } from './authenticate.js';
import { rateLimit } from './rate-limit.js';
import { ratePolicy } from './rate-limit-policy.js';
import { scimErrorHandler } from './scim-error-handler.js';
import { sendScim } from './send.js';

export interface ScimRouterOptions {
  pool: pg.Pool;
  log: Logger;
  publicBaseUrl: string;
  maxBodyBytes: number;
  maxResults: number;
  defaultCount: number;
  /** Told which users a committed write marked for reconciliation. */
  onMarked?: OnUsersMarked;
  /** Per-tenant request limit, shared through Redis; absent or `perSecond: 0` means unlimited. */
  rateLimit?: { redis: Redis; prefix: string; perSecond: number; burst: number };
}

/**
 * The SCIM 2.0 endpoint of every tenant, mounted at `/scim/v2/:tenant`. Each handler is a short pipeline:
 * authenticate → parse → service call (one transaction) → render with this tenant's base URL.
 */
export function scimRouter(opts: ScimRouterOptions): Router {
  const catalogs = resourceCatalogs();
  const users = new UserService(opts.pool, catalogs.user, opts.onMarked);
  const groups = new GroupService(opts.pool, catalogs.group, opts.onMarked);
  const limits = { defaultCount: opts.defaultCount, maxResults: opts.maxResults };
  const userProjector = (p: { attributes?: string[] | undefined; excludedAttributes?: string[] | undefined }) =>
    new Projector(p, CORE_USER, USER_EXTENSIONS);
  const groupProjector = (p: { attributes?: string[] | undefined; excludedAttributes?: string[] | undefined }) =>
    new Projector(p, CORE_GROUP, []);

  const router = Router({ mergeParams: true });
  // Authenticate first: an anonymous caller gets 401 and no body parsing at all.
  router.use(authenticate(opts.pool, opts.publicBaseUrl, opts.log));
  // Then the tenant's rate limit, before the body is read, so a refused request costs as little as it can.
  // Every route counts, discovery too: each request costs the token lookup above whatever it asks for, and
  // IdPs read discovery only when connecting, so limiting it never gets in the way of a well-behaved one.
  const policy = opts.rateLimit && ratePolicy(opts.rateLimit.perSecond, opts.rateLimit.burst);
  if (opts.rateLimit && policy) {
    router.use(rateLimit({ redis: opts.rateLimit.redis, prefix: opts.rateLimit.prefix, policy, log: opts.log }));
  }
  // Any content type is read as JSON: IdPs label SCIM bodies application/json, application/scim+json or,
  // now and then, nothing at all.
  router.use(express.json({ limit: opts.maxBodyBytes, type: () => true }));

  router.get('/ServiceProviderConfig', (_req, res) => sendScim(res, 200, serviceProviderConfig(tenantContext(res).baseUrl, opts.maxResults)));
  router.get('/ResourceTypes', (_req, res) => sendScim(res, 200, resourceTypes(tenantContext(res).baseUrl)));
  router.get('/ResourceTypes/:id', (req, res) => {
    sendScim(res, 200, found(resourceType(tenantContext(res).baseUrl, String(req.params['id'])), 'ResourceType'));
  });
  router.get('/Schemas', (_req, res) => sendScim(res, 200, schemas(tenantContext(res).baseUrl)));
  router.get('/Schemas/:id', (req, res) => {
    sendScim(res, 200, found(schema(tenantContext(res).baseUrl, String(req.params['id'])), 'Schema'));
  });

  // Users
  const listUsers = async (res: Response, params: ListParams) => {
    const ctx = tenantContext(res);
    const projector = userProjector(params);
    const page = await users.list(ctx, params, projector.wants('groups'));
    const resources = page.items.map(({ user, groups: g }) => projector.apply(renderUser(user, ctx.baseUrl, g)));
    sendScim(res, 200, listResponse(page.total, params, resources));
  };
  router.get('/Users', (req, res) => listUsers(res, parseListParams(req.query, limits)));
  router.post('/Users/.search', (req, res) => listUsers(res, parseListParams(searchBody(req), limits)));
  router.post('/Users', async (req, res) => {
    const ctx = tenantContext(res);
    const user = await users.create(ctx, req.body);
    const body = userProjector(projection(req)).apply(renderUser(user, ctx.baseUrl, []));
    sendScim(res, 201, body, { Location: `${ctx.baseUrl}/Users/${user.id}`, ETag: etagOf(user.version) });
  });
  router.get('/Users/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const projector = userProjector(projection(req));
    const { user, groups: g } = await users.get(ctx, String(req.params['id']), projector.wants('groups'));
    sendScim(res, 200, projector.apply(renderUser(user, ctx.baseUrl, g)), { ETag: etagOf(user.version) });
  });
  router.put('/Users/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const user = await users.replace(ctx, String(req.params['id']), req.body, req.get('If-Match'));
    const projector = userProjector(projection(req));
    const { groups: g } = projector.wants('groups') ? await users.get(ctx, user.id, true) : { groups: undefined };
    sendScim(res, 200, projector.apply(renderUser(user, ctx.baseUrl, g)), { ETag: etagOf(user.version) });
  });
  router.patch('/Users/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const user = await users.patch(ctx, String(req.params['id']), req.body, req.get('If-Match'));
    await answerPatch(req, res, etagOf(user.version), async () => {
      const projector = userProjector(projection(req));
      const { groups: g } = await users.get(ctx, user.id, projector.wants('groups'));
      return projector.apply(renderUser(user, ctx.baseUrl, g));
    });
  });
  router.delete('/Users/:id', async (req, res) => {
    await users.remove(tenantContext(res), String(req.params['id']), req.get('If-Match'));
    res.status(204).end();
  });

  // Groups: members are loaded only when the response will carry them, and list responses carry them only
  // when `attributes` asks, so a list of large groups never reads their memberships.
  const listGroups = async (res: Response, params: ListParams) => {
    const ctx = tenantContext(res);
    const projector = groupProjector(params);
    const withMembers = Boolean(params.attributes) && projector.wants('members');
    const page = await groups.list(ctx, params, withMembers);
    const resources = page.items.map(({ group, members }) => projector.apply(renderGroup(group, ctx.baseUrl, members)));
    sendScim(res, 200, listResponse(page.total, params, resources));
  };
  router.get('/Groups', (req, res) => listGroups(res, parseListParams(req.query, limits)));
  router.post('/Groups/.search', (req, res) => listGroups(res, parseListParams(searchBody(req), limits)));
  router.post('/Groups', async (req, res) => {
    const ctx = tenantContext(res);
    const { group, members } = await groups.create(ctx, req.body);
    const body = groupProjector(projection(req)).apply(renderGroup(group, ctx.baseUrl, members));
    sendScim(res, 201, body, { Location: `${ctx.baseUrl}/Groups/${group.id}`, ETag: etagOf(group.version) });
  });
  router.get('/Groups/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const projector = groupProjector(projection(req));
    const { group, members } = await groups.get(ctx, String(req.params['id']), projector.wants('members'));
    sendScim(res, 200, projector.apply(renderGroup(group, ctx.baseUrl, members)), { ETag: etagOf(group.version) });
  });
  router.put('/Groups/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const { group, members } = await groups.replace(ctx, String(req.params['id']), req.body, req.get('If-Match'));
    const body = groupProjector(projection(req)).apply(renderGroup(group, ctx.baseUrl, members));
    sendScim(res, 200, body, { ETag: etagOf(group.version) });
  });
  router.patch('/Groups/:id', async (req, res) => {
    const ctx = tenantContext(res);
    const group = await groups.patch(ctx, String(req.params['id']), req.body, req.get('If-Match'));
    await answerPatch(req, res, etagOf(group.version), async () => {
      const projector = groupProjector(projection(req));
      const { members } = await groups.get(ctx, group.id, projector.wants('members'));
      return projector.apply(renderGroup(group, ctx.baseUrl, members));
    });
  });
  router.delete('/Groups/:id', async (req, res) => {
    await groups.remove(tenantContext(res), String(req.params['id']), req.get('If-Match'));
    res.status(204).end();
  });

  router.all('/Bulk', () => {
    throw new ScimError(501, undefined, 'bulk operations are not supported (see /ServiceProviderConfig)');
  });
  router.use(() => {
    throw new ScimError(404, undefined, 'no such SCIM endpoint');
  });
  router.use(scimErrorHandler(opts.log));
  return router;
}

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ScimError(404, undefined, `no such ${what}`);
  return value;
}

function projection(req: Request): { attributes?: string[] | undefined; excludedAttributes?: string[] | undefined } {
  const split = (v: unknown) => (typeof v === 'string' && v.trim() ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  return { attributes: split(req.query['attributes']), excludedAttributes: split(req.query['excludedAttributes']) };
}

function searchBody(req: Request): Record<string, unknown> {
  const body = req.body as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'a search request body must be a SearchRequest object');
  }
  const { schemas: declared, ...params } = body as Record<string, unknown>;
  if (declared !== undefined && !(Array.isArray(declared) && declared.includes(SEARCH_REQUEST))) {
    throw new ScimError(400, 'invalidSyntax', `schemas must contain "${SEARCH_REQUEST}"`);
  }
  return params;
}

function listResponse(total: number, params: ListParams, resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE], totalResults: total, itemsPerPage: resources.length, startIndex: params.startIndex, Resources: resources };
}

/**
 * RFC 7644 §3.5.2 lets a PATCH answer 204 or 200 with the resource. Lanyard answers 204 (what the IdPs'
 * conformance suites expect) unless the client asks for a representation with `attributes` or
 * `excludedAttributes`.
 */
async function answerPatch(req: Request, res: Response, etag: string, render: () => Promise<Record<string, unknown>>): Promise<void> {
  if (req.query['attributes'] === undefined && req.query['excludedAttributes'] === undefined) {
    res.status(204).set('ETag', etag).end();
    return;
  }
  sendScim(res, 200, await render(), { ETag: etag });
}
