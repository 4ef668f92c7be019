import { ScimError } from '../../errors/scim-error.js';
import { type PatchOperation, splitPatchPath } from '../patch-request.js';
import { CORE_GROUP } from '../schemas.js';
import { lowerKeys } from '../attribute-names.js';
import { IGNORED_ON_INPUT, type MemberRef, parseExternalId, parseMembers } from './group-input.js';

/**
 * One step of a group PATCH, in request order. Membership steps name only the members that change, so
 * executing them costs what the request names, never what the group holds.
 */
export type GroupPatchStep =
  | { kind: 'set'; displayName?: string; externalId?: string | null }
  | { kind: 'add'; members: MemberRef[] }
  | { kind: 'remove'; values: string[] }
  | { kind: 'removeAll' }
  | { kind: 'replace'; members: MemberRef[] };

const MEMBER_FILTER = /^\s*value\s+eq\s+"([^"]*)"\s*$/i;

/** Turns PatchOp operations on a Group into steps. Pure. */
export function planGroupPatch(ops: PatchOperation[]): GroupPatchStep[] {
  return ops.flatMap((operation, index) => planOne(operation, `Operations[${index}]`));
}

function planOne(operation: PatchOperation, at: string): GroupPatchStep[] {
  const { op, value } = operation;
  if (!operation.path) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new ScimError(400, 'invalidValue', `${at}: without a path, value must be an object`);
    }
    const fields = Object.entries(lowerKeys(value as Record<string, unknown>)).filter(([key]) => !IGNORED_ON_INPUT.has(key));
    return fields.flatMap(([key, inner]) => planAttribute(op, key, undefined, inner, `${at}.value.${key}`));
  }
  const path = splitPatchPath(operation.path, CORE_GROUP, []);
  return planAttribute(op, path.attr.toLowerCase(), path, value, at);
}

function planAttribute(
  op: PatchOperation['op'],
  attr: string,
  path: { filter: string | undefined; sub: string | undefined } | undefined,
  value: unknown,
  at: string,
): GroupPatchStep[] {
  if (path && ['id', 'meta', 'schemas'].includes(attr)) {
    throw new ScimError(400, 'mutability', `${at}: attribute "${attr}" is read-only`);
  }
  if (path?.sub || (path?.filter && attr !== 'members')) {
    throw new ScimError(400, 'invalidPath', `${at}: unsupported path on a Group`);
  }
  switch (attr) {
    case 'displayname':
      if (op === 'remove') throw new ScimError(400, 'mutability', `${at}: displayName is required and cannot be removed`);
      if (typeof value !== 'string' || !value.trim()) throw new ScimError(400, 'invalidValue', `${at}: displayName must be a non-empty string`);
      return [{ kind: 'set', displayName: value }];
    case 'externalid':
      return [{ kind: 'set', externalId: op === 'remove' ? null : parseExternalId(value) }];
    case 'members':
      return planMembers(op, path?.filter, value, at);
    default:
      throw new ScimError(400, 'invalidPath', `${at}: a Group has no attribute "${attr}"`);
  }
}

function planMembers(op: PatchOperation['op'], filter: string | undefined, value: unknown, at: string): GroupPatchStep[] {
  if (filter !== undefined) {
    if (op !== 'remove') throw new ScimError(400, 'invalidPath', `${at}: a member filter is only supported with "remove"`);
    // `members[value eq "a" or value eq "b"]`
    const values = filter.split(/\s+or\s+/i).map((part) => {
      const match = MEMBER_FILTER.exec(part);
      if (!match) throw new ScimError(400, 'invalidFilter', `${at}: expected members[value eq "<id>"]`);
      return match[1]!;
    });
    return [{ kind: 'remove', values }];
  }
  if (op === 'remove') {
    if (value === undefined || value === null) return [{ kind: 'removeAll' }];
    return [{ kind: 'remove', values: parseMembers(value, `${at}.value`).map((m) => m.value) }];
  }
  const members = value === null ? [] : parseMembers(value, `${at}.value`);
  return [op === 'add' ? { kind: 'add', members } : { kind: 'replace', members }];
}
