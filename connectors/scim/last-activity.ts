import { ConnectorError } from '../kit/connector-error.js';
import type { AccountRef } from '../kit/contract.js';
import { parseAttributePath, readAttribute } from './attribute-path.js';
import type { ScimClient } from './client.js';
import { parseDateTime } from './date-time.js';

/**
 * The connector's `lastActivity` for a downstream that reports a user's last activity under `attribute`
 * (SCIM 2.0 has no standard attribute for it; applications keep one in their own extension). Absent or
 * null → null; a value that is not an RFC 3339 date-time → `invalid_response`; a user that is not there →
 * `not_found`, as for every other call.
 */
export function lastActivityReader(scim: ScimClient, attribute: string): (ref: AccountRef) => Promise<Date | null> {
  const path = parseAttributePath(attribute);
  if (!path) throw new ConnectorError('invalid_config', `activityAttribute "${attribute}" is not a SCIM attribute path`);
  // Only that attribute is asked for: a smaller answer, without personal data Lanyard has no use for here. A
  // server that ignores `attributes` sends the whole user, which reads the same.
  const query = new URLSearchParams({ attributes: attribute }).toString();

  return async (ref) => {
    const { body } = await scim.request<unknown>('GET', `/Users/${encodeURIComponent(ref.id)}?${query}`);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ConnectorError('invalid_response', 'GET /Users: the answer is not a user');
    const value = readAttribute(body as Record<string, unknown>, path);
    if (value === undefined || value === null) return null;
    const at = typeof value === 'string' ? parseDateTime(value) : null;
    if (!at) throw new ConnectorError('invalid_response', `${attribute} is not an RFC 3339 date-time`);
    return at;
  };
}
