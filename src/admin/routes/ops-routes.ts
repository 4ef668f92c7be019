import { z } from 'zod';
import { DomainError } from '../../errors/domain-error.js';
import { OPERATOR_ROLES } from '../../operators/operator.js';
import type { OperatorKeyRecord } from '../../store/operator-keys-store.js';
import { parseConnectorWorkId } from '../../provisioning/jobs.js';
import { tenantIdOf } from '../../tenants/tenant-service.js';
import { pageOfList, pageQuerySchema, pageSchema } from '../pagination.js';
import { type AdminRoute, route } from '../route.js';
import { iso, isoDate, isoOrNull, slugParams } from '../schemas.js';

/** Parked downstream work, and the operators' own API keys. */

const failedJobSchema = z
  .object({
    id: z.string().meta({ description: 'what retry takes' }),
    connector: z.string(),
    userName: z.string(),
    grants: z.number().int().meta({ description: 'grants waiting on this work' }),
    error: z.string().nullable(),
    failedAt: isoDate,
  })
  .meta({ id: 'FailedJob' });

const keySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(OPERATOR_ROLES),
    tenants: z.array(z.string()),
    state: z.enum(['active', 'expired', 'revoked']),
    createdBy: z.string(),
    createdAt: isoDate,
    expiresAt: isoDate,
    revokedAt: isoDate.nullable(),
    lastUsedAt: isoDate.nullable(),
  })
  .meta({ id: 'OperatorKey' });

function keyJson(k: OperatorKeyRecord & { state: 'active' | 'expired' | 'revoked' }) {
  return { id: k.id, name: k.name, role: k.role, tenants: k.tenants, state: k.state, createdBy: k.createdBy, createdAt: iso(k.createdAt), expiresAt: iso(k.expiresAt), revokedAt: isoOrNull(k.revokedAt), lastUsedAt: isoOrNull(k.lastUsedAt) };
}

export function opsRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{slug}/jobs/failed',
      operationId: 'listFailedJobs',
      summary: 'Downstream work that failed for good or ran out of retries, waiting for an operator',
      tag: 'Jobs',
      action: 'jobs.retry',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'parked jobs, oldest failure first', schema: pageSchema(failedJobSchema, 'FailedJobPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const page = pageOfList(await services.jobs.failed(params.slug), query, (j) => [j.failedAt.getTime(), j.id], 2);
        return { items: page.items.map((j) => ({ id: j.id, connector: j.connector, userName: j.userName, grants: j.grants, error: j.error, failedAt: iso(j.failedAt) })), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/jobs/failed/{id}/retry',
      operationId: 'retryFailedJob',
      summary: 'Put a parked job back in flight',
      tag: 'Jobs',
      action: 'jobs.retry',
      scope: 'tenant',
      params: slugParams.extend({ id: z.string().max(300) }),
      answer: { status: 200, description: 'how many grants went back in flight', schema: z.object({ id: z.string(), grants: z.number().int() }) },
      problems: [400, 404],
      async handle({ params, actor, services }) {
        const key = parseConnectorWorkId(params.id);
        if (!key || key.tenantId !== (await tenantIdOf(services.pool, params.slug))) throw new DomainError('not_found', `no failed job "${params.id.slice(0, 200)}" in tenant "${params.slug}"`);
        return { id: params.id, grants: await services.jobs.retry(params.id, actor) };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/jobs/failed/retry-all',
      operationId: 'retryAllFailedJobs',
      summary: "Put every parked job of the tenant back in flight",
      tag: 'Jobs',
      action: 'jobs.retry',
      scope: 'tenant',
      params: slugParams,
      answer: { status: 200, description: 'how many jobs and grants went back in flight', schema: z.object({ jobs: z.number().int(), grants: z.number().int() }) },
      problems: [404],
      async handle({ params, actor, services }) {
        return services.jobs.retryAll(params.slug, actor);
      },
    }),
    route({
      method: 'get',
      path: '/operator-keys',
      operationId: 'listOperatorKeys',
      summary: 'Operator API keys (never the keys themselves)',
      tag: 'Operators',
      action: 'operator.manage',
      scope: 'msp',
      query: pageQuerySchema,
      answer: { status: 200, description: 'keys, oldest first', schema: pageSchema(keySchema, 'OperatorKeyPage') },
      problems: [400],
      async handle({ query, services }) {
        const page = pageOfList(await services.operatorKeys.list(), query, (k) => [iso(k.createdAt), k.id], 2);
        return { items: page.items.map(keyJson), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/operator-keys',
      operationId: 'createOperatorKey',
      summary: 'Create an operator API key (shown once)',
      tag: 'Operators',
      action: 'operator.manage',
      scope: 'msp',
      body: z
        .object({
          name: z.string(),
          role: z.enum(OPERATOR_ROLES),
          tenants: z.array(z.string()).optional().meta({ description: 'for a tenant-admin: the tenants it administers' }),
          ttlDays: z.number().int().min(1).max(365).optional().meta({ description: 'lifetime in days (default OPERATOR_KEY_DEFAULT_TTL)' }),
        })
        .strict(),
      answer: { status: 201, description: 'the key: hand it over now, it is not shown again', schema: z.object({ key: z.string(), record: keySchema }).meta({ id: 'CreatedOperatorKey' }) },
      problems: [400, 404],
      async handle({ body, actor, services }) {
        const created = await services.operatorKeys.create({ name: body.name, role: body.role, tenants: body.tenants, ttlMs: body.ttlDays === undefined ? undefined : body.ttlDays * 86_400_000 }, actor);
        return { key: created.key, record: keyJson({ ...created.record, state: 'active' }) };
      },
    }),
    route({
      method: 'delete',
      path: '/operator-keys/{id}',
      operationId: 'revokeOperatorKey',
      summary: 'Revoke an operator API key',
      tag: 'Operators',
      action: 'operator.manage',
      scope: 'msp',
      params: z.object({ id: z.string().max(100) }),
      answer: { status: 200, description: 'revoked now, or already before', schema: z.object({ id: z.string(), outcome: z.enum(['revoked', 'already_revoked']) }) },
      problems: [404],
      async handle({ params, actor, services }) {
        return { id: params.id, outcome: await services.operatorKeys.revoke(params.id, actor) };
      },
    }),
  ];
}
