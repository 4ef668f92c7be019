import { z } from 'zod';
import type { Operator } from '../../operators/operator.js';
import { type ApprovalRecord, pageApprovals } from '../../store/approvals-store.js';
import { type ExceptionGrant, pageExceptions } from '../../store/exceptions-store.js';
import { type HoldRecord, pageHolds } from '../../store/holds-store.js';
import { inTenantBySlug } from '../../tenants/tenant-service.js';
import { decodeTimeIdCursor, pageOfRows, pageQuerySchema, pageSchema } from '../pagination.js';
import { type AdminRoute, route } from '../route.js';
import { instantInput, iso, isoDate, isoOrNull, slugParams } from '../schemas.js';

/** Approvals, holds of the mass-deprovision brake, and emergency exceptions: what waits on a person. */

const approvalSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    userName: z.string(),
    package: z.string(),
    state: z.string(),
    approvers: z.object({ sponsor: z.string().nullable(), tenant: z.array(z.string()), msp: z.array(z.string()) }),
    requestedAt: isoDate,
    deadline: isoDate,
    decidedBy: z.string().nullable(),
    decidedAt: isoDate.nullable(),
    decisionReason: z.string().nullable(),
    endsAt: isoDate.nullable(),
  })
  .meta({ id: 'ApprovalRequest' });

function approvalJson(a: ApprovalRecord) {
  return {
    id: a.id,
    userId: a.userId,
    userName: a.userName,
    package: a.package,
    state: a.state,
    approvers: { sponsor: a.approvers.sponsor, tenant: a.approvers.tenant, msp: a.approvers.msp },
    requestedAt: iso(a.requestedAt),
    deadline: iso(a.deadline),
    decidedBy: a.decidedBy,
    decidedAt: isoOrNull(a.decidedAt),
    decisionReason: a.decisionReason,
    endsAt: isoOrNull(a.endsAt),
  };
}

const holdSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    userName: z.string(),
    state: z.enum(['pending', 'released', 'rejected', 'withdrawn']),
    reason: z.string(),
    createdAt: isoDate,
    decidedBy: z.string().nullable(),
    decidedAt: isoDate.nullable(),
    decisionReason: z.string().nullable(),
  })
  .meta({ id: 'Hold' });

function holdJson(h: HoldRecord) {
  return { id: h.id, userId: h.userId, userName: h.userName, state: h.state, reason: h.reason, createdAt: iso(h.createdAt), decidedBy: h.decidedBy, decidedAt: isoOrNull(h.decidedAt), decisionReason: h.decisionReason };
}

const exceptionSchema = z
  .object({ id: z.uuid(), userId: z.uuid(), userName: z.string(), package: z.string(), grantedBy: z.string(), reason: z.string(), startsAt: isoDate, endsAt: isoDate, active: z.boolean() })
  .meta({ id: 'EmergencyException' });

function exceptionJson(x: ExceptionGrant, now: Date = new Date()) {
  return { id: x.id, userId: x.userId, userName: x.userName, package: x.package, grantedBy: x.grantedBy, reason: x.reason, startsAt: iso(x.startsAt), endsAt: iso(x.endsAt), active: x.endsAt > now };
}

const pendingQuery = pageQuerySchema.extend({
  pending: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').meta({ description: 'only what still waits for a decision' }),
});

/** The name a decision is recorded under: approver lists name people as the MSP's IdP does (e-mail, username). */
const decider = (operator: Operator) => operator.name;
/** Holds and exceptions record who acted as `operator:<by>`: the way the operator signed in, then the name. */
const operatorBy = (operator: Operator) => `${operator.via === 'api-key' ? 'key' : 'oidc'}:${operator.name}`;

const idParams = slugParams.extend({ id: z.uuid() });


export function decisionRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{slug}/approvals',
      operationId: 'listApprovals',
      summary: 'Approval requests, newest first',
      tag: 'Approvals',
      action: 'approval.decide',
      scope: 'tenant',
      params: slugParams,
      query: pendingQuery,
      answer: { status: 200, description: 'requests', schema: pageSchema(approvalSchema, 'ApprovalRequestPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const before = decodeTimeIdCursor(query.cursor);
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pageApprovals(db, t.id, { pendingOnly: query.pending, limit: query.limit + 1, before }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (r) => r.pageKey);
        return { items: page.items.map((r) => approvalJson(r.record)), nextCursor: page.nextCursor };
      },
    }),
    ...(['approve', 'deny'] as const).map((verb) =>
      route({
        method: 'post',
        path: `/tenants/{slug}/approvals/{id}/${verb}`,
        operationId: `${verb}Approval`,
        summary: verb === 'approve' ? 'Approve a request, as the signed-in operator (who must be one of its approvers)' : 'Deny a request, with a reason',
        tag: 'Approvals',
        action: 'approval.decide',
        scope: 'tenant',
        params: idParams,
        body:
          verb === 'approve'
            ? z.object({ reason: z.string().max(2000).optional(), until: instantInput.optional().meta({ description: 'end the access earlier than the package allows' }) }).strict()
            : z.object({ reason: z.string().min(1).max(2000) }).strict(),
        answer: { status: 200, description: 'the decided request', schema: approvalSchema },
        problems: [400, 404, 409],
        async handle({ params, body, operator, services }) {
          const b = body as { reason?: string; until?: Date };
          const decision = { by: decider(operator), reason: b.reason, until: b.until, within: params.slug };
          return approvalJson(verb === 'approve' ? await services.approvals.approve(params.id, decision) : await services.approvals.deny(params.id, decision));
        },
      }),
    ),
    route({
      method: 'get',
      path: '/tenants/{slug}/holds',
      operationId: 'listHolds',
      summary: 'Deprovisions held by the mass-deprovision brake',
      tag: 'Holds',
      action: 'approval.decide',
      scope: 'tenant',
      params: slugParams,
      query: pendingQuery,
      answer: { status: 200, description: 'holds, newest first', schema: pageSchema(holdSchema, 'HoldPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const before = decodeTimeIdCursor(query.cursor);
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pageHolds(db, t.id, { pendingOnly: query.pending, limit: query.limit + 1, before }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (r) => r.pageKey);
        return { items: page.items.map((r) => holdJson(r.record)), nextCursor: page.nextCursor };
      },
    }),
    ...(['release', 'reject'] as const).map((verb) =>
      route({
        method: 'post',
        path: `/tenants/{slug}/holds/{id}/${verb}`,
        operationId: `${verb}Hold`,
        summary: verb === 'release' ? 'Release a held deprovision: the access is revoked' : 'Reject a held deprovision, with a reason: the access stays',
        tag: 'Holds',
        action: 'approval.decide',
        scope: 'tenant',
        params: idParams,
        body: verb === 'release' ? z.object({ reason: z.string().max(2000).optional() }).strict() : z.object({ reason: z.string().min(1).max(2000) }).strict(),
        answer: { status: 200, description: 'the decided hold', schema: holdSchema },
        problems: [400, 404, 409],
        async handle({ params, body, operator, services }) {
          const [hold] = await services.holds.decide({ id: params.id, within: params.slug }, verb === 'release' ? 'released' : 'rejected', { by: operatorBy(operator), reason: (body as { reason?: string }).reason });
          return holdJson(hold!);
        },
      }),
    ),
    ...(['release', 'reject'] as const).map((verb) =>
      route({
        method: 'post',
        path: `/tenants/{slug}/holds/${verb}-all`,
        operationId: `${verb}AllHolds`,
        summary: `${verb === 'release' ? 'Release' : 'Reject'} every pending hold of the tenant`,
        tag: 'Holds',
        action: 'approval.decide',
        scope: 'tenant',
        params: slugParams,
        body: verb === 'release' ? z.object({ reason: z.string().max(2000).optional() }).strict() : z.object({ reason: z.string().min(1).max(2000) }).strict(),
        answer: { status: 200, description: 'the holds decided', schema: z.object({ items: z.array(holdSchema) }) },
        problems: [400, 404],
        async handle({ params, body, operator, services }) {
          const decided = await services.holds.decide({ slug: params.slug }, verb === 'release' ? 'released' : 'rejected', { by: operatorBy(operator), reason: (body as { reason?: string }).reason });
          return { items: decided.map(holdJson) };
        },
      }),
    ),
    route({
      method: 'get',
      path: '/tenants/{slug}/exceptions',
      operationId: 'listExceptions',
      summary: 'Emergency access granted outside the rules, for review',
      tag: 'Exceptions',
      action: 'evidence.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema.extend({ active: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').meta({ description: 'only those still in force' }) }),
      answer: { status: 200, description: 'exceptions, newest first', schema: pageSchema(exceptionSchema, 'EmergencyExceptionPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const before = decodeTimeIdCursor(query.cursor);
        const now = new Date();
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pageExceptions(db, t.id, { activeAt: query.active ? now : undefined, limit: query.limit + 1, before }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (r) => r.pageKey);
        return { items: page.items.map((r) => exceptionJson(r.record, now)), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/exceptions',
      operationId: 'grantException',
      summary: 'Grant emergency access to a package the policy lists under `emergency`, for hours, with a reason',
      tag: 'Exceptions',
      action: 'approval.decide',
      scope: 'tenant',
      params: slugParams,
      body: z
        .object({
          userName: z.string().min(1),
          package: z.string().min(1),
          reason: z.string().min(1).max(2000),
          hours: z.number().positive().max(24).optional().meta({ description: "how long; at most the policy's emergency maxDuration (its default)" }),
        })
        .strict(),
      answer: { status: 201, description: 'the exception', schema: exceptionSchema },
      problems: [400, 404, 409],
      async handle({ params, body, operator, services }) {
        const granted = await services.exceptions.grant(params.slug, {
          userName: body.userName,
          package: body.package,
          by: operatorBy(operator),
          reason: body.reason,
          durationMs: body.hours === undefined ? undefined : Math.round(body.hours * 3_600_000),
        });
        return exceptionJson(granted);
      },
    }),
  ];
}
