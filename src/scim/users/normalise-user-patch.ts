import { ScimError } from '../../errors/scim-error.js';
import { valueOf } from '../attribute-names.js';
import { coerceExtension, coerceResource, coerceToSchema } from '../coerce-input.js';
import type { AttributeSpec, ResourceCatalog } from '../filter/catalog.js';
import { type PatchOperation, splitPatchPath } from '../patch-request.js';

/** Attributes no PATCH may target (RFC 7644 §3.5.2: a read-only target is a `mutability` error). */
const READ_ONLY = new Set(['id', 'meta', 'groups', 'schemas']);

/**
 * Rewrites operations from the shapes IdPs really send into ones the PatchOp engine applies as intended:
 * - string booleans and a plain-string `manager` are coerced by the target attribute's type;
 * - `emails[type eq "work"].value` on a user who has no work e-mail yet (Entra sends this to set one)
 *   becomes an `add` of `{ type: "work", value }` instead of failing with `noTarget`.
 * Also refuses read-only targets. Pure.
 */
export function normaliseUserPatch(
  ops: PatchOperation[],
  current: Record<string, unknown>,
  catalog: ResourceCatalog,
): PatchOperation[] {
  const extensionUrns = catalog.extensions.map((e) => e.urn);
  return ops.map((operation, index) => {
    if (!operation.path) {
      if (!operation.value || typeof operation.value !== 'object' || Array.isArray(operation.value)) {
        throw new ScimError(400, 'invalidValue', `Operations[${index}]: without a path, value must be an object`);
      }
      const value: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(operation.value as Record<string, unknown>)) {
        // A dotted or filtered key (`meta.created`, `groups[…]`) is read-only when its top-level attribute is.
        refuseReadOnly(key.split(/[.[]/)[0]!, index, key);
        value[key] = coerceKey(key, inner, catalog);
      }
      return { ...operation, value };
    }
    const path = splitPatchPath(operation.path, catalog.core.urn, extensionUrns);
    if (!path.urn) refuseReadOnly(path.attr, index);
    const attributes = path.urn ? catalog.extensions.find((e) => e.urn === path.urn)!.attributes : catalog.core.attributes;
    const spec = attributes[path.attr.toLowerCase()];
    if (!spec || operation.value === undefined) return operation;
    const target = path.sub ? spec.subAttributes?.[path.sub.toLowerCase()] : path.filter ? { ...spec, multiValued: false } : spec;
    const value = target ? coerceToSchema(operation.value, target) : operation.value;

    const typeFilter = path.filter && /^\s*type\s+eq\s+"([^"]*)"\s*$/i.exec(path.filter);
    if (operation.op !== 'remove' && typeFilter && path.sub && spec.multiValued && !hasElementOfType(current, path, typeFilter[1]!)) {
      const attrPath = path.urn ? `${path.urn}:${path.attr}` : path.attr;
      return { op: 'add', path: attrPath, value: [{ type: typeFilter[1], [path.sub]: value }] };
    }
    return { ...operation, value };
  });
}

function refuseReadOnly(attribute: string, index: number, shown = attribute): void {
  if (READ_ONLY.has(attribute.toLowerCase())) {
    throw new ScimError(400, 'mutability', `Operations[${index}]: attribute "${shown.slice(0, 100)}" is read-only`);
  }
}

/** Coerces one key of a path-less value object: a plain attribute, a dotted `name.givenName`, or a URN key. */
function coerceKey(key: string, value: unknown, catalog: ResourceCatalog): unknown {
  const lower = key.toLowerCase();
  const extension = catalog.extensions.find((e) => e.urn.toLowerCase() === lower);
  if (extension) return coerceExtension(value, extension.attributes);
  const qualified = catalog.extensions.find((e) => lower.startsWith(`${e.urn.toLowerCase()}:`));
  if (qualified) {
    const [attr, sub] = key.slice(qualified.urn.length + 1).split('.');
    return coerceSpec(qualified.attributes[attr!.toLowerCase()], sub, value);
  }
  const [attr, sub] = key.split('.');
  if (!sub) return coerceResource({ [key]: value }, catalog)[key];
  return coerceSpec(catalog.core.attributes[attr!.toLowerCase()], sub, value);
}

function coerceSpec(spec: AttributeSpec | undefined, sub: string | undefined, value: unknown): unknown {
  const target = spec && sub ? spec.subAttributes?.[sub.toLowerCase()] : spec;
  return target ? coerceToSchema(value, target) : value;
}

function hasElementOfType(current: Record<string, unknown>, path: { urn: string | undefined; attr: string }, type: string): boolean {
  const container = path.urn ? valueOf(current, path.urn) : current;
  if (!container || typeof container !== 'object') return false;
  const list = valueOf(container as Record<string, unknown>, path.attr);
  return (
    Array.isArray(list) &&
    list.some((element) => {
      const t = element && typeof element === 'object' ? valueOf(element as Record<string, unknown>, 'type') : undefined;
      return typeof t === 'string' && t.toLowerCase() === type.toLowerCase();
    })
  );
}
