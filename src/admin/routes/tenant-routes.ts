import { z } from 'zod';
import { TOKEN_EXPIRY_WARNING_MS } from '../../lifecycle/token-expiry-schedule.js';
import { GRANT_STATES } from '../../policy/grant-state.js';
import { type TenantStatusRow, tenantStatuses } from '../../store/status-store.js';
import { inTx } from '../../store/transaction.js';
import { apiManifestSource } from '../../tenants/manifest-api-source.js';
import { ManifestService } from '../../tenants/manifest-service.js';
import { scimBaseUrl, TENANT_STATUSES, type Tenant, tenantNameSchema, tenantSlugSchema } from '../../tenants/tenant.js';
import { DomainError } from '../../errors/domain-error.js';
import type { AdminServices } from '../admin-services.js';
import { pageOfList, pageQuerySchema, pageSchema } from '../pagination.js';
import { visibleTenants } from '../permissions.js';
import { type AdminRoute, route } from '../route.js';
import { instantInput, iso, isoDate, isoOrNull, slugParams } from '../schemas.js';

export const tenantSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(TENANT_STATUSES),
    contractEndsAt: isoDate.nullable(),
    createdAt: isoDate,
    scimBaseUrl: z.string().meta({ description: "the URL to give the tenant's IdP" }),
  })
  .meta({ id: 'Tenant' });

function tenantJson(t: Tenant, services: AdminServices) {
  return { id: t.id, slug: t.slug, name: t.name, status: t.status, contractEndsAt: isoOrNull(t.contractEndsAt), createdAt: iso(t.createdAt), scimBaseUrl: scimBaseUrl(services.config.publicBaseUrl, t.slug) };
}

const statusSchema = z
  .object({
    slug: z.string(),
    status: z.enum(TENANT_STATUSES),
    contractEndsAt: isoDate.nullable(),
    users: z.number().int(),
    activeUsers: z.number().int(),
    grants: z.object(Object.fromEntries(GRANT_STATES.map((s) => [s, z.number().int()])) as Record<(typeof GRANT_STATES)[number], z.ZodNumber>),
    pendingApprovals: z.number().int(),
    pendingHolds: z.number().int(),
    failedJobs: z.number().int(),
    lastScimRequestAt: isoDate.nullable().meta({ description: 'the latest authenticated SCIM request: tells an idle tenant from a broken one' }),
    activeTokens: z.number().int(),
    expiringTokens: z.number().int().meta({ description: 'tokens in force that expire within 14 days' }),
    nextTokenExpiry: isoDate.nullable(),
  })
  .meta({ id: 'TenantStatus' });

function statusJson(r: TenantStatusRow) {
  return {
    slug: r.slug,
    status: r.status,
    contractEndsAt: isoOrNull(r.contractEndsAt),
    users: r.users,
    activeUsers: r.activeUsers,
    grants: r.grants,
    pendingApprovals: r.pendingApprovals,
    pendingHolds: r.pendingHolds,
    failedJobs: r.parkedWork,
    lastScimRequestAt: isoOrNull(r.lastScimRequestAt),
    activeTokens: r.activeTokens,
    expiringTokens: r.expiringTokens,
    nextTokenExpiry: isoOrNull(r.nextTokenExpiry),
  };
}

const manifestStepSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create-tenant'), slug: z.string(), name: z.string() }),
  z.object({ action: z.literal('rename-tenant'), from: z.string(), to: z.string() }),
  z.object({ action: z.literal('set-contract-end'), from: z.string().nullable(), to: z.string().nullable() }),
  z.object({ action: z.literal('add-connector'), name: z.string(), kind: z.string() }),
  z.object({ action: z.literal('update-connector'), name: z.string(), changed: z.array(z.string()) }),
  z.object({ action: z.literal('apply-policy'), version: z.number().int() }),
]);

const TAG = 'Tenants';

export function tenantRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants',
      operationId: 'listTenants',
      summary: 'List tenants',
      tag: TAG,
      action: 'tenant.read',
      scope: 'listing',
      query: pageQuerySchema,
      answer: { status: 200, description: 'tenants by slug', schema: pageSchema(tenantSchema, 'TenantPage') },
      problems: [400],
      async handle({ query, operator, services }) {
        const visible = visibleTenants(operator);
        const tenants = (await services.tenants.list()).filter((t) => visible(t.slug));
        const page = pageOfList(tenants, query, (t) => [t.slug]);
        return { items: page.items.map((t) => tenantJson(t, services)), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/tenants',
      operationId: 'createTenant',
      summary: 'Create a tenant',
      tag: TAG,
      action: 'tenant.write',
      scope: 'msp',
      body: z.object({ slug: tenantSlugSchema, name: tenantNameSchema.optional() }).strict(),
      answer: { status: 201, description: 'the new tenant; issue a SCIM token for its IdP next', schema: tenantSchema },
      problems: [400, 409],
      async handle({ body, actor, services }) {
        return tenantJson(await services.tenants.create(body, actor), services);
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}',
      operationId: 'getTenant',
      summary: 'Show a tenant',
      tag: TAG,
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      answer: { status: 200, description: 'the tenant', schema: tenantSchema },
      problems: [404],
      async handle({ params, services }) {
        return tenantJson(await services.tenants.get(params.slug), services);
      },
    }),
    route({
      method: 'get',
      path: '/status',
      operationId: 'listTenantStatus',
      summary: "Every visible tenant's health at a glance",
      tag: TAG,
      action: 'tenant.read',
      scope: 'listing',
      query: pageQuerySchema,
      answer: { status: 200, description: 'per tenant: last push, users, grants by state, approvals, holds, failed jobs, token expiry', schema: pageSchema(statusSchema, 'TenantStatusPage') },
      problems: [400],
      async handle({ query, operator, services }) {
        const visible = visibleTenants(operator);
        const rows = (await inTx(services.pool, (db) => tenantStatuses(db, { expiringWithinMs: TOKEN_EXPIRY_WARNING_MS }), { readOnly: true })).filter((r) => visible(r.slug));
        const page = pageOfList(rows, query, (r) => [r.slug]);
        return { items: page.items.map(statusJson), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/status',
      operationId: 'getTenantStatus',
      summary: "One tenant's health at a glance",
      tag: TAG,
      action: 'tenant.read',
      scope: 'tenant',
      params: slugParams,
      answer: { status: 200, description: 'last push, users, grants by state, approvals, holds, failed jobs, token expiry', schema: statusSchema },
      problems: [404],
      async handle({ params, services }) {
        const [row] = await inTx(services.pool, (db) => tenantStatuses(db, { slug: params.slug, expiringWithinMs: TOKEN_EXPIRY_WARNING_MS }), { readOnly: true });
        if (!row) throw new DomainError('not_found', `no tenant "${params.slug}"`);
        return statusJson(row);
      },
    }),
    ...(['suspend', 'resume'] as const).map((verb) =>
      route({
        method: 'post',
        path: `/tenants/{slug}/${verb}`,
        operationId: `${verb}Tenant`,
        summary: verb === 'suspend' ? 'Suspend a tenant: its SCIM endpoint answers 403, its data is kept' : 'Resume a suspended tenant',
        tag: TAG,
        action: 'tenant.write',
        scope: 'tenant',
        params: slugParams,
        answer: { status: 200, description: 'the tenant', schema: tenantSchema },
        problems: [404, 409],
        async handle({ params, actor, services }) {
          return tenantJson(await services.tenants.setStatus(params.slug, verb === 'suspend' ? 'suspended' : 'active', actor), services);
        },
      }),
    ),
    route({
      method: 'post',
      path: '/tenants/{slug}/offboard',
      operationId: 'offboardTenant',
      summary: 'End a tenant: revoke all access through the pipeline and its SCIM tokens, keep every record',
      tag: TAG,
      action: 'tenant.write',
      scope: 'tenant',
      params: slugParams,
      answer: {
        status: 200,
        description: 'what was started',
        schema: z.object({ tenant: tenantSchema, tokensRevoked: z.number().int(), users: z.number().int().meta({ description: 'users whose access is being revoked' }) }),
      },
      problems: [404, 409],
      async handle({ params, actor, services }) {
        const done = await services.tenants.offboard(params.slug, actor);
        return { tenant: tenantJson(done.tenant, services), tokensRevoked: done.tokensRevoked, users: done.users };
      },
    }),
    route({
      method: 'put',
      path: '/tenants/{slug}/contract-end',
      operationId: 'setContractEnd',
      summary: "Set the tenant's contract end: no grant outlives it",
      tag: TAG,
      action: 'tenant.write',
      scope: 'tenant',
      params: slugParams,
      body: z.object({ contractEnd: instantInput.nullable().meta({ description: 'a date or date-time; null: none' }) }).strict(),
      answer: { status: 200, description: 'the tenant', schema: tenantSchema },
      problems: [400, 404, 409],
      async handle({ params, body, actor, services }) {
        return tenantJson(await services.tenants.setContractEnd(params.slug, body.contractEnd, actor), services);
      },
    }),
    route({
      method: 'put',
      path: '/tenants/{slug}/manifest',
      operationId: 'applyManifest',
      summary: 'Create or update a tenant, its connectors and policy from one manifest, idempotently',
      tag: TAG,
      action: 'tenant.write',
      scope: 'tenant',
      params: slugParams,
      query: z.object({ dryRun: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').meta({ description: 'plan only, change nothing' }) }),
      body: z.object({ source: z.string().min(1).meta({ description: 'the manifest, YAML or JSON; secrets by `{ env }` or `{ file }` reference' }) }).strict(),
      yamlSource: true,
      answer: {
        status: 200,
        description: 'the plan, whether it was applied, and a SCIM token (shown once) when the tenant was created',
        schema: z
          .object({
            slug: z.string(),
            applied: z.boolean(),
            steps: z.array(manifestStepSchema),
            scimBaseUrl: z.string(),
            token: z.object({ id: z.string(), token: z.string(), expiresAt: isoDate }).optional(),
          })
          .meta({ id: 'ManifestResult' }),
      },
      problems: [400, 404, 409],
      async handle({ params, query, body, actor, services }) {
        const manifests = new ManifestService({ ...services, publicBaseUrl: services.config.publicBaseUrl });
        const source = apiManifestSource(body.source, services.config.admin.manifestDir);
        const result = await manifests.apply(source, { dryRun: query.dryRun, slug: params.slug }, actor);
        return {
          slug: result.slug,
          applied: result.applied,
          steps: result.steps,
          scimBaseUrl: result.scimBaseUrl,
          ...(result.token ? { token: { id: result.token.id, token: result.token.token, expiresAt: iso(result.token.expiresAt) } } : {}),
        };
      },
    }),
  ];
}
