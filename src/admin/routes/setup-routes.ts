import { z } from 'zod';
import { DomainError } from '../../errors/domain-error.js';
import { loadPolicy } from '../../policy/load-policy.js';
import { pagePolicyVersions } from '../../store/admin-reads.js';
import { inTenantBySlug } from '../../tenants/tenant-service.js';
import { decodeSeqCursor, pageOfList, pageOfRows, pageQuerySchema, pageSchema } from '../pagination.js';
import { type AdminRoute, route } from '../route.js';
import { iso, isoDate, isoOrNull, slugParams } from '../schemas.js';

/** SCIM tokens, connectors and policy: what a tenant is set up with. */

const tokenSchema = z
  .object({
    id: z.uuid(),
    state: z.enum(['active', 'expired', 'revoked']),
    createdBy: z.string(),
    createdAt: isoDate,
    expiresAt: isoDate,
    revokedAt: isoDate.nullable(),
    lastUsedAt: isoDate.nullable(),
  })
  .meta({ id: 'ScimToken' });

const connectorSchema = z
  .object({
    name: z.string(),
    kind: z.string(),
    config: z.record(z.string(), z.unknown()).meta({ description: 'the configuration, every secret field shown as "[encrypted]"' }),
    onDelete: z.enum(['remove', 'disable']),
    createdBy: z.string(),
    createdAt: isoDate,
  })
  .meta({ id: 'Connector' });

const connectorParams = slugParams.extend({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and "-"') });

const policySource = z.object({ source: z.string().min(1).meta({ description: 'the policy, YAML' }) }).strict();

const policyVersionSchema = z.object({ version: z.number().int(), appliedBy: z.string(), appliedAt: isoDate }).meta({ id: 'PolicyVersionSummary' });

const planSchema = z
  .object({
    users: z.number().int(),
    quarantined: z.number().int(),
    byPackage: z.record(z.string(), z.object({ grant: z.number().int(), revoke: z.number().int() })),
    changes: z.array(
      z.object({
        userName: z.string(),
        status: z.string(),
        missing: z.array(z.string()).optional(),
        grant: z.array(z.object({ connector: z.string(), entitlement: z.string(), packages: z.array(z.string()), approval: z.boolean() })),
        revoke: z.array(z.object({ connector: z.string(), entitlement: z.string(), packages: z.array(z.string()), reason: z.string() })),
      }),
    ),
  })
  .meta({ id: 'PolicyPlan' });

export function setupRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{slug}/tokens',
      operationId: 'listScimTokens',
      summary: "List the tenant's SCIM tokens (never the tokens themselves)",
      tag: 'SCIM tokens',
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'tokens, oldest first', schema: pageSchema(tokenSchema, 'ScimTokenPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const tokens = await services.tokens.list(params.slug);
        const page = pageOfList(tokens, query, (t) => [iso(t.createdAt), t.id], 2);
        return {
          items: page.items.map((t) => ({ id: t.id, state: t.state, createdBy: t.createdBy, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), revokedAt: isoOrNull(t.revokedAt), lastUsedAt: isoOrNull(t.lastUsedAt) })),
          nextCursor: page.nextCursor,
        };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/tokens',
      operationId: 'issueScimToken',
      summary: 'Issue a SCIM token for the tenant\'s IdP (shown once; at most two in force, for rotation)',
      tag: 'SCIM tokens',
      action: 'tenant.write',
      scope: 'tenant',
      params: slugParams,
      body: z.object({ ttlDays: z.number().int().min(1).max(3650).optional().meta({ description: 'lifetime in days (default SCIM_TOKEN_DEFAULT_TTL)' }) }).strict(),
      answer: { status: 201, description: 'the token: store it in the IdP now, it is not shown again', schema: z.object({ id: z.uuid(), token: z.string(), expiresAt: isoDate }).meta({ id: 'IssuedScimToken' }) },
      problems: [400, 404, 409],
      async handle({ params, body, actor, services }) {
        const issued = await services.tokens.issue(params.slug, { ttlMs: body.ttlDays === undefined ? undefined : body.ttlDays * 86_400_000 }, actor);
        return { id: issued.id, token: issued.token, expiresAt: iso(issued.expiresAt) };
      },
    }),
    route({
      method: 'delete',
      path: '/tenants/{slug}/tokens/{id}',
      operationId: 'revokeScimToken',
      summary: 'Revoke a SCIM token',
      tag: 'SCIM tokens',
      action: 'tenant.write',
      scope: 'tenant',
      params: slugParams.extend({ id: z.string() }),
      answer: { status: 200, description: 'revoked now, or already before', schema: z.object({ id: z.string(), outcome: z.enum(['revoked', 'already_revoked']) }) },
      problems: [404],
      async handle({ params, actor, services }) {
        return { id: params.id, outcome: await services.tokens.revoke(params.slug, params.id, actor) };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/connectors',
      operationId: 'listConnectors',
      summary: "List the tenant's connectors, secrets masked",
      tag: 'Connectors',
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'connectors by name', schema: pageSchema(connectorSchema, 'ConnectorPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const page = pageOfList(await services.connectors.list(params.slug), query, (c) => [c.name]);
        return { items: page.items.map((c) => ({ ...c, createdAt: iso(c.createdAt) })), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/connectors',
      operationId: 'addConnector',
      summary: "Register a connector: its configuration is checked by its kind, its secrets sealed",
      tag: 'Connectors',
      action: 'connector.write',
      scope: 'tenant',
      params: slugParams,
      body: z
        .object({
          name: z.string(),
          kind: z.string(),
          config: z.record(z.string(), z.unknown()),
          onDelete: z.enum(['remove', 'disable']).optional().meta({ description: 'what a SCIM DELETE does downstream (default remove)' }),
        })
        .strict(),
      answer: { status: 201, description: 'the connector, secrets masked', schema: connectorSchema },
      problems: [400, 404, 409],
      async handle({ params, body, actor, services }) {
        const added = await services.connectors.add(params.slug, { name: body.name, kind: body.kind, config: body.config, ...(body.onDelete ? { onDelete: body.onDelete } : {}) }, actor);
        return { ...added, createdAt: iso(added.createdAt) };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/connectors/{name}/test',
      operationId: 'testConnector',
      summary: 'Check that the downstream is reachable and the credentials work',
      tag: 'Connectors',
      action: 'connector.write',
      scope: 'tenant',
      params: connectorParams,
      answer: {
        status: 200,
        description: 'ok, or what the downstream refused with (a connector error code and a message free of secrets)',
        schema: z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), code: z.string(), message: z.string() })]),
      },
      problems: [404],
      async handle({ params, services }) {
        return services.connectors.check(params.slug, params.name);
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/connectors/{name}/entitlements',
      operationId: 'listEntitlements',
      summary: 'What the connector can grant, as policy files name it',
      tag: 'Connectors',
      action: 'tenant.read',
      scope: 'tenant',
      params: connectorParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'entitlements by id', schema: pageSchema(z.object({ id: z.string(), description: z.string().optional() }), 'EntitlementPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        return pageOfList(await services.connectors.entitlements(params.slug, params.name), query, (e) => [e.id]);
      },
    }),
    route({
      method: 'delete',
      path: '/tenants/{slug}/connectors/{name}',
      operationId: 'removeConnector',
      summary: 'Remove a connector that holds nothing and never did',
      tag: 'Connectors',
      action: 'connector.write',
      scope: 'tenant',
      params: connectorParams,
      answer: { status: 200, description: 'removed', schema: z.object({ name: z.string(), removed: z.literal(true) }) },
      problems: [404, 409],
      async handle({ params, actor, services }) {
        await services.connectors.remove(params.slug, params.name, actor);
        return { name: params.name, removed: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/policy/validate',
      operationId: 'validatePolicy',
      summary: 'Check a policy: schema, durations and references, each problem named by its path',
      tag: 'Policy',
      action: 'tenant.read',
      scope: 'any',
      body: policySource,
      yamlSource: true,
      answer: {
        status: 200,
        description: 'valid, or every problem with its path',
        schema: z.union([
          z.object({ valid: z.literal(true), packages: z.array(z.string()), rules: z.number().int() }),
          z.object({ valid: z.literal(false), problems: z.array(z.object({ path: z.string(), problem: z.string() })) }),
        ]),
      },
      problems: [400],
      async handle({ body }) {
        const result = loadPolicy(body.source);
        if (result.ok) return { valid: true as const, packages: Object.keys(result.policy.packages), rules: result.policy.rules.length };
        return { valid: false as const, problems: result.errors.map((e) => ({ path: e.path, problem: e.problem })) };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/policy',
      operationId: 'getPolicy',
      summary: 'The policy in force, with its version',
      tag: 'Policy',
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      answer: { status: 200, description: 'the policy in force', schema: z.object({ version: z.number().int(), appliedBy: z.string(), appliedAt: isoDate, source: z.string() }).meta({ id: 'PolicyVersion' }) },
      problems: [404],
      async handle({ params, services }) {
        const current = await services.policies.show(params.slug);
        if (!current) throw new DomainError('not_found', `tenant "${params.slug}" has no policy yet`);
        return { version: current.version, appliedBy: current.appliedBy, appliedAt: iso(current.appliedAt), source: current.source };
      },
    }),
    route({
      method: 'put',
      path: '/tenants/{slug}/policy',
      operationId: 'applyPolicy',
      summary: 'Apply a new version of the policy; every user is reconciled against it',
      tag: 'Policy',
      action: 'policy.write',
      scope: 'tenant',
      params: slugParams,
      body: policySource,
      yamlSource: true,
      answer: { status: 200, description: 'the version stored', schema: policyVersionSchema },
      problems: [400, 404],
      async handle({ params, body, actor, services }) {
        const v = await services.policies.apply(params.slug, body.source, actor);
        return { version: v.version, appliedBy: v.appliedBy, appliedAt: iso(v.appliedAt) };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/policy/plan',
      operationId: 'planPolicy',
      summary: 'Dry run: what a policy would grant and revoke, per package and per user; changes nothing',
      tag: 'Policy',
      action: 'policy.write',
      scope: 'tenant',
      params: slugParams,
      body: policySource,
      yamlSource: true,
      answer: { status: 200, description: 'the plan', schema: planSchema },
      problems: [400, 404],
      async handle({ params, body, services }) {
        return services.policies.plan(params.slug, body.source);
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/policy/versions',
      operationId: 'listPolicyVersions',
      summary: 'Policy history: every version applied, who applied it and when, newest first',
      tag: 'Policy',
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'versions, newest first', schema: pageSchema(policyVersionSchema, 'PolicyVersionPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const before = decodeSeqCursor(query.cursor);
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pagePolicyVersions(db, t.id, { beforeVersion: before, limit: query.limit }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (v) => [v.version]);
        return { items: page.items.map((v) => ({ ...v, appliedAt: iso(v.appliedAt) })), nextCursor: page.nextCursor };
      },
    }),
  ];
}
