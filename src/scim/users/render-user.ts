import type { GroupRef, UserRecord } from '../../store/users-store.js';
import { etagOf } from '../etag.js';
import { CORE_USER, USER_EXTENSIONS } from '../schemas.js';

/**
 * The SCIM representation of a stored user. Rendered straight from the validated document: it was checked
 * on the way in, and running every list row back through schema validation would cost more than the query.
 */
export function renderUser(user: UserRecord, baseUrl: string, groups?: GroupRef[]): Record<string, unknown> {
  const { externalId, userName, ...rest } = user.doc;
  const out: Record<string, unknown> = {
    schemas: [CORE_USER, ...USER_EXTENSIONS.filter((urn) => rest[urn] !== undefined)],
    id: user.id,
  };
  if (externalId !== undefined) out['externalId'] = externalId;
  out['userName'] = userName;
  Object.assign(out, rest);
  if (groups) {
    out['groups'] = groups.map((g) => ({
      value: g.groupId,
      $ref: `${baseUrl}/Groups/${g.groupId}`,
      display: g.displayName,
      type: 'direct',
    }));
  }
  out['meta'] = {
    resourceType: 'User',
    created: user.createdAt.toISOString(),
    lastModified: user.updatedAt.toISOString(),
    location: `${baseUrl}/Users/${user.id}`,
    version: etagOf(user.version),
  };
  return out;
}
