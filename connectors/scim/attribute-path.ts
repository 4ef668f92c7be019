/**
 * A SCIM attribute path (RFC 7644 §3.10) naming one value of a User: an optional schema URN, an attribute
 * and an optional sub-attribute, e.g. `urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin`,
 * `meta.lastModified`. Value filters (`emails[type eq "work"]`) are not accepted: they select from a list,
 * and the paths configured here name a single value.
 */
export interface AttributePath {
  /** The schema URN the attribute is qualified with, if any. */
  schema?: string;
  attribute: string;
  subAttribute?: string;
}

/** Attributes of the core User schema sit at the top of the resource, even when qualified by its URN. */
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const NAME = '[a-z][a-z0-9_-]*';
// URN segments are separated by single colons; the last colon starts the attribute, whose name cannot hold one.
const PATH = new RegExp(`^(?:(urn(?::[^\\s:]+)+):)?(${NAME})(?:\\.(${NAME}))?$`, 'i');

export function parseAttributePath(text: string): AttributePath | null {
  const match = PATH.exec(text);
  if (!match) return null;
  const [, schema, attribute, subAttribute] = match;
  return { attribute: attribute!, ...(schema ? { schema } : {}), ...(subAttribute ? { subAttribute } : {}) };
}

/**
 * The value at `path` in a User resource, or undefined when it is not there. Names and URNs compare without
 * case (RFC 7643 §2.1); an extension's attributes sit under its URN, the core schema's at the top. When a
 * sub-attribute is asked of a value that is not one object (a multi-valued attribute), that value is
 * returned as it is, for the caller to refuse.
 */
export function readAttribute(resource: Record<string, unknown>, path: AttributePath): unknown {
  const container = path.schema && path.schema.toLowerCase() !== CORE_USER.toLowerCase() ? keyOf(resource, path.schema) : resource;
  const value = keyOf(container, path.attribute);
  return path.subAttribute && isObject(value) ? keyOf(value, path.subAttribute) : value;
}

function keyOf(obj: unknown, name: string): unknown {
  if (!isObject(obj)) return undefined;
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
