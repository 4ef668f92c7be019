import { z } from 'zod';
import { collectEvidence } from '../../audit/evidence.js';
import { evidenceWriter } from '../../audit/evidence-writer.js';
import { EXPORT_FORMATS, exportAuditEvents, parseSince, toExported } from '../../audit/export.js';
import { verifyAudit } from '../../audit/verify-chain.js';
import { checkpointSource, verdictJson } from '../../audit/verify-summary.js';
import { pageAuditEvents } from '../../store/admin-reads.js';
import { inTenantBySlug } from '../../tenants/tenant-service.js';
import { decodeSeqCursor, pageOfRows, pageQuerySchema, pageSchema } from '../pagination.js';
import { type AdminRoute, route } from '../route.js';
import { slugParams } from '../schemas.js';

/** The audit trail and the evidence built from it: what an auditor reads. */

const since = z
  .string()
  .transform((text, ctx) => {
    const at = parseSince(text);
    if (at) return at;
    ctx.addIssue({ code: 'custom', message: 'expected a date (2024-05-01), a date-time with offset or a duration back (7d, 12h)' });
    return z.NEVER;
  })
  .meta({ description: 'a date, a date-time with offset, or a duration back (7d, 12h)' });

const auditEventSchema = z
  .object({
    seq: z.number().int(),
    occurredAt: z.string(),
    actor: z.string(),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    attributes: z.array(z.string()),
    detail: z.record(z.string(), z.unknown()),
    hash: z.string().meta({ description: 'the chain hash after this event, hex' }),
  })
  .meta({ id: 'AuditEvent' });

const TAG = 'Audit';

export function auditRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{slug}/audit/events',
      operationId: 'queryAuditEvents',
      summary: "Query the tenant's audit trail, in sequence order",
      tag: TAG,
      action: 'audit.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema.extend({
        since: since.optional(),
        until: since.optional().meta({ description: 'only events before this' }),
        action: z.string().max(200).optional(),
        actor: z.string().max(300).optional(),
        resourceType: z.string().max(100).optional(),
        resourceId: z.string().max(300).optional(),
      }),
      answer: { status: 200, description: 'events', schema: pageSchema(auditEventSchema, 'AuditEventPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const after = decodeSeqCursor(query.cursor) ?? 0;
        const rows = await inTenantBySlug(
          services.pool,
          params.slug,
          (db, t) => pageAuditEvents(db, t.id, { ...query, afterSeq: after, limit: query.limit }),
          { readOnly: true },
        );
        const page = pageOfRows(rows, query.limit, (e) => [e.seq]);
        return { items: page.items.map((e) => toExported(e.seq, e.hash, e.entry)), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/audit/export',
      operationId: 'exportAuditEvents',
      summary: "Export the tenant's whole audit trail (or since a date), streamed, as JSON Lines or CSV",
      tag: TAG,
      action: 'audit.read',
      scope: 'tenant',
      params: slugParams,
      query: z.object({ format: z.enum(EXPORT_FORMATS).default('jsonl'), since: since.optional() }),
      answer: {
        status: 200,
        description: 'one event per line (JSON Lines), or CSV with a header row',
        media: { 'application/jsonl': z.string(), 'text/csv': z.string() },
      },
      problems: [400, 404],
      async handle({ params, query, services, res }) {
        const tenant = await services.tenants.get(params.slug);
        res.status(200).type(query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${params.slug}-audit.${query.format}"`);
        await exportAuditEvents(services.pool, tenant.id, { format: query.format, ...(query.since ? { since: query.since } : {}), out: res });
        res.end();
      },
    }),
    route({
      method: 'post',
      path: '/tenants/{slug}/audit/verify',
      operationId: 'verifyAudit',
      summary: 'Recompute the hash chain and check it against the signed checkpoints the service is configured with',
      tag: TAG,
      action: 'audit.read',
      scope: 'tenant',
      params: slugParams,
      answer: {
        status: 200,
        description: 'the verdict: `ok`, or the first sequence number that cannot be trusted and why',
        schema: z
          .object({
            tenant: z.string(),
            tenantId: z.uuid(),
            ok: z.boolean(),
            events: z.number().int(),
            head: z.string().nullable(),
            brokenAt: z.number().int().nullable(),
            reason: z.string().nullable(),
            checkpoints: z
              .object({
                dir: z.string(),
                keyId: z.string(),
                trusted: z.number().int(),
                latest: z.object({ tenantId: z.string(), seq: z.number().int(), hash: z.string(), createdAt: z.string() }).nullable(),
                rejected: z.array(z.object({ file: z.string(), reason: z.string() })),
              })
              .nullable(),
          })
          .meta({ id: 'AuditVerdict' }),
      },
      problems: [404],
      async handle({ params, services }) {
        const tenant = await services.tenants.get(params.slug);
        const checkpoints = await checkpointSource(services.config.audit, {});
        return verdictJson(params.slug, await verifyAudit(services.pool, tenant.id, { checkpoints }));
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/evidence',
      operationId: 'getEvidence',
      summary: 'Every grant, current and past: why it was made, who approved it and when, when it started, when and why it ended',
      tag: TAG,
      action: 'evidence.read',
      scope: 'tenant',
      params: slugParams,
      query: z.object({
        user: z.string().min(1).max(300).optional().meta({ description: 'only this user (as named now, or as recorded)' }),
        format: z.enum(['json', 'text']).default('json'),
      }),
      answer: {
        status: 200,
        description: 'the evidence report, streamed: JSON, or the readable text the CLI prints',
        media: { 'application/json': z.object({}).loose().meta({ description: 'tenant, generatedAt, users (with grants, requests, exceptions, holds), totals' }), 'text/plain': z.string() },
      },
      problems: [400, 404],
      async handle({ params, query, services, res }) {
        const json = query.format === 'json';
        const writer = evidenceWriter(res, json);
        // Headers wait for the first write: a tenant or user that does not exist is still a clean 404.
        const sink = {
          begin: async (h: Parameters<typeof writer.begin>[0]) => {
            res.status(200).type(json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
            await writer.begin(h);
          },
          users: (batch: Parameters<typeof writer.users>[0]) => writer.users(batch),
        };
        await collectEvidence(services.pool, params.slug, sink, { userName: query.user });
        await writer.finish();
        res.end();
      },
    }),
  ];
}
