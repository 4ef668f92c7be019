import { z } from 'zod';
import { DomainError } from '../../errors/domain-error.js';
import { GRANT_STATES } from '../../policy/grant-state.js';
import { groupMembers, pageGrants, pageGroups, pageUsers } from '../../store/admin-reads.js';
import { inTenantBySlug } from '../../tenants/tenant-service.js';
import { decodeSeqCursor, decodeTimeIdCursor, pageOfRows, pageQuerySchema, pageSchema } from '../pagination.js';
import { type AdminRoute, route } from '../route.js';
import { iso, isoDate, isoOrNull, slugParams } from '../schemas.js';

/** The directory as the IdP pushed it, and the grants made from it: read-only, the IdP is the source of truth. */

const userSchema = z
  .object({
    id: z.uuid(),
    userName: z.string(),
    externalId: z.string().nullable(),
    active: z.boolean(),
    attributes: z.record(z.string(), z.unknown()).meta({ description: 'the SCIM attributes as the IdP last wrote them' }),
    groups: z.array(z.object({ groupId: z.uuid(), displayName: z.string() })),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'DirectoryUser' });

const groupSchema = z
  .object({ id: z.uuid(), displayName: z.string(), externalId: z.string().nullable(), members: z.number().int(), createdAt: isoDate, updatedAt: isoDate })
  .meta({ id: 'DirectoryGroup' });

const grantSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    userName: z.string(),
    connector: z.string(),
    entitlement: z.string(),
    state: z.enum(GRANT_STATES),
    reasons: z.array(z.unknown()).meta({ description: 'why: the rules, groups, packages, approvals or exceptions that asked for it' }),
    policyVersion: z.number().int().nullable(),
    startsAt: isoDate.nullable(),
    endsAt: isoDate.nullable(),
    revokeReason: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'Grant' });

const seqCursor = (cursor: string | undefined) => decodeSeqCursor(cursor) ?? 0;

type UserRow = Awaited<ReturnType<typeof pageUsers>>[number];
const userJson = (u: UserRow) => ({ id: u.id, userName: u.userName, externalId: u.externalId, active: u.active, attributes: u.doc, groups: u.groups, createdAt: iso(u.createdAt), updatedAt: iso(u.updatedAt) });
type GroupRow = Awaited<ReturnType<typeof pageGroups>>[number];
const groupJson = (g: GroupRow) => ({ id: g.id, displayName: g.displayName, externalId: g.externalId, members: g.members, createdAt: iso(g.createdAt), updatedAt: iso(g.updatedAt) });

const TAG = 'Directory';

export function directoryRoutes(): AdminRoute[] {
  return [
    route({
      method: 'get',
      path: '/tenants/{slug}/users',
      operationId: 'listUsers',
      summary: 'Users as the IdP pushed them',
      tag: TAG,
      action: 'user.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema.extend({ userName: z.string().min(1).max(300).optional().meta({ description: 'exactly this userName, case-insensitively' }) }),
      answer: { status: 200, description: 'users in the order they were created', schema: pageSchema(userSchema, 'DirectoryUserPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pageUsers(db, t.id, { afterSeq: seqCursor(query.cursor), limit: query.limit, userName: query.userName }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (u) => [u.seq]);
        return { items: page.items.map(userJson), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/users/{id}',
      operationId: 'getUser',
      summary: 'One user, with its groups',
      tag: TAG,
      action: 'user.read',
      scope: 'tenant',
      params: slugParams.extend({ id: z.uuid() }),
      answer: { status: 200, description: 'the user', schema: userSchema },
      problems: [400, 404],
      async handle({ params, services }) {
        const [user] = await inTenantBySlug(services.pool, params.slug, (db, t) => pageUsers(db, t.id, { afterSeq: 0, limit: 1, id: params.id }), { readOnly: true });
        if (!user) throw new DomainError('not_found', `tenant "${params.slug}" has no user ${params.id}`);
        return userJson(user);
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/groups',
      operationId: 'listGroups',
      summary: 'Groups as the IdP pushed them',
      tag: TAG,
      action: 'user.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema,
      answer: { status: 200, description: 'groups in the order they were created', schema: pageSchema(groupSchema, 'DirectoryGroupPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const rows = await inTenantBySlug(services.pool, params.slug, (db, t) => pageGroups(db, t.id, { afterSeq: seqCursor(query.cursor), limit: query.limit }), { readOnly: true });
        const page = pageOfRows(rows, query.limit, (g) => [g.seq]);
        return { items: page.items.map(groupJson), nextCursor: page.nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/groups/{id}',
      operationId: 'getGroup',
      summary: 'One group, with its members',
      tag: TAG,
      action: 'user.read',
      scope: 'tenant',
      params: slugParams.extend({ id: z.uuid() }),
      answer: { status: 200, description: 'the group', schema: groupSchema.extend({ memberList: z.array(z.object({ id: z.uuid(), userName: z.string() })) }) },
      problems: [400, 404],
      async handle({ params, services }) {
        return inTenantBySlug(
          services.pool,
          params.slug,
          async (db, t) => {
            const [group] = await pageGroups(db, t.id, { afterSeq: 0, limit: 1, id: params.id });
            if (!group) throw new DomainError('not_found', `tenant "${params.slug}" has no group ${params.id}`);
            return { ...groupJson(group), memberList: await groupMembers(db, t.id, group.id) };
          },
          { readOnly: true },
        );
      },
    }),
    route({
      method: 'get',
      path: '/tenants/{slug}/grants',
      operationId: 'listGrants',
      summary: 'Grants, current and past, filtered by state, user, package or connector',
      tag: 'Grants',
      action: 'evidence.read',
      scope: 'tenant',
      params: slugParams,
      query: pageQuerySchema.extend({
        state: z.enum(GRANT_STATES).optional(),
        user: z.string().min(1).max(300).optional().meta({ description: 'userName as recorded on the grant, case-insensitively' }),
        package: z.string().min(1).max(200).optional(),
        connector: z.string().min(1).max(63).optional(),
      }),
      answer: { status: 200, description: 'grants, oldest first', schema: pageSchema(grantSchema, 'GrantPage') },
      problems: [400, 404],
      async handle({ params, query, services }) {
        const after = decodeTimeIdCursor(query.cursor);
        const rows = await inTenantBySlug(
          services.pool,
          params.slug,
          (db, t) => pageGrants(db, t.id, { state: query.state, userName: query.user, package: query.package, connector: query.connector, after: after ? [after.at, after.id] : null, limit: query.limit }),
          { readOnly: true },
        );
        const page = pageOfRows(rows, query.limit, (g) => [g.createdKey, g.id]);
        return {
          items: page.items.map(({ createdKey: _key, ...g }) => ({ ...g, startsAt: isoOrNull(g.startsAt), endsAt: isoOrNull(g.endsAt), createdAt: iso(g.createdAt), updatedAt: iso(g.updatedAt) })),
          nextCursor: page.nextCursor,
        };
      },
    }),
  ];
}
