import { ScimError } from '../../errors/scim-error.js';
import { lowerKeys } from '../attribute-names.js';

/** A member reference as a client sent it; `value` is checked against the tenant's users before use. */
export interface MemberRef {
  value: string;
  display: string | null;
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  /** Undefined when the body has no `members`: a PUT then leaves the group empty, a POST creates it empty. */
  members: MemberRef[];
}

/** Read-only or derived attributes a client may echo back; RFC 7643 §2.2 says to ignore them. */
export const IGNORED_ON_INPUT = new Set(['id', 'meta', 'schemas']);

/**
 * Validates a Group POST or PUT body. Attribute names are case-insensitive (RFC 7643 §2.1); unknown
 * attributes are ignored as for users.
 */
export function parseGroupInput(body: unknown): GroupInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'the request body must be a JSON object');
  }
  const fields = lowerKeys(body as Record<string, unknown>);
  const displayName = fields['displayname'];
  if (typeof displayName !== 'string' || !displayName.trim()) {
    throw new ScimError(400, 'invalidValue', 'displayName is required and must be a non-empty string');
  }
  if (displayName.length > 1000) throw new ScimError(400, 'invalidValue', 'displayName is longer than 1000 characters');
  return {
    displayName,
    externalId: parseExternalId(fields['externalid']),
    members: fields['members'] === undefined || fields['members'] === null ? [] : parseMembers(fields['members'], 'members'),
  };
}

export function parseExternalId(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ScimError(400, 'invalidValue', 'externalId must be a string');
  return value;
}

/**
 * Reads member references. Only users can be members (nested groups are not supported); `display` is kept
 * as the IdP's label, and `displayName`, which some clients send instead, is read as the same thing.
 */
export function parseMembers(value: unknown, where: string): MemberRef[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((raw, index) => {
    const at = Array.isArray(value) ? `${where}[${index}]` : where;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ScimError(400, 'invalidValue', `${at}: a member must be an object such as {"value": "<user id>"}`);
    }
    const member = lowerKeys(raw as Record<string, unknown>);
    if (typeof member['value'] !== 'string' || !member['value']) {
      throw new ScimError(400, 'invalidValue', `${at}.value: must be the id of a user in this tenant`);
    }
    const type = member['type'];
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'user')) {
      throw new ScimError(400, 'invalidValue', `${at}.type: only users can be group members`);
    }
    const display = member['display'] ?? member['displayname'];
    return { value: member['value'], display: typeof display === 'string' ? display : null };
  });
}
