import type { GroupRecord, MemberView } from '../../store/groups-store.js';
import { etagOf } from '../etag.js';
import { CORE_GROUP } from '../schemas.js';

export function renderGroup(group: GroupRecord, baseUrl: string, members?: MemberView[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemas: [CORE_GROUP], id: group.id };
  if (group.externalId !== null) out['externalId'] = group.externalId;
  out['displayName'] = group.displayName;
  if (members) {
    out['members'] = members.map((m) => ({
      value: m.userId,
      $ref: `${baseUrl}/Users/${m.userId}`,
      type: 'User',
      ...(m.display !== null ? { display: m.display } : {}),
    }));
  }
  out['meta'] = {
    resourceType: 'Group',
    created: group.createdAt.toISOString(),
    lastModified: group.updatedAt.toISOString(),
    location: `${baseUrl}/Groups/${group.id}`,
    version: etagOf(group.version),
  };
  return out;
}
