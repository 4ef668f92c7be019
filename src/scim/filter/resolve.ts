/**
 * Matches attribute paths written by a client against a resource catalog. Names are compared
 * case-insensitively (RFC 7643 §2.1), and anything outside the catalog is refused, so a filter or `sortBy`
 * can only ever reach attributes the catalog exposes.
 */
import type { AttrPath } from './ast.js';
import { formatPath } from './ast.js';
import type { AttributeSpec, ResourceCatalog, SchemaAttributes } from './catalog.js';
import { FilterError, quoteInput } from './filter-error.js';

/** An attribute path matched to the catalog. */
export interface ResolvedPath {
  /** The schema the attribute belongs to, as the catalog spells its URN. */
  schemaUrn: string;
  /** The top-level attribute. */
  attribute: AttributeSpec;
  /** The sub-attribute, when the path names one (`name.givenName`). */
  sub?: AttributeSpec;
}

function at(path: AttrPath): string {
  return path.position === undefined ? '' : ` at position ${path.position}`;
}

function findSchema(path: AttrPath, catalog: ResourceCatalog): SchemaAttributes {
  if (path.schema === undefined) return catalog.core;
  const wanted = path.schema.toLowerCase();
  const schema = [catalog.core, ...catalog.extensions].find((s) => s.urn.toLowerCase() === wanted);
  if (schema === undefined) throw new FilterError(`unknown schema ${quoteInput(path.schema)}${at(path)}`);
  return schema;
}

/**
 * Looks up a sub-attribute of `parent` by name, case-insensitively.
 *
 * @param label how the client referred to the sub-attribute, for the error message.
 * @throws {FilterError} when `parent` has no such sub-attribute.
 */
export function resolveSubAttribute(
  parent: AttributeSpec,
  name: string,
  label: AttrPath,
): AttributeSpec {
  const sub = parent.subAttributes?.[name.toLowerCase()];
  if (sub === undefined) throw new FilterError(`unknown attribute ${quoteInput(formatPath(label))}${at(label)}`);
  return sub;
}

/**
 * Resolves a client's attribute path to catalog entries. An unqualified name is looked up in the core
 * schema only; extension attributes need their URN prefix.
 *
 * @throws {FilterError} naming the attribute when the schema, attribute or sub-attribute is unknown.
 */
export function resolveAttrPath(path: AttrPath, catalog: ResourceCatalog): ResolvedPath {
  const schema = findSchema(path, catalog);
  const attribute = schema.attributes[path.attr.toLowerCase()];
  if (attribute === undefined) {
    const unqualified: AttrPath = { attr: path.attr };
    if (path.schema !== undefined) unqualified.schema = path.schema;
    throw new FilterError(`unknown attribute ${quoteInput(formatPath(unqualified))}${at(path)}`);
  }
  const resolved: ResolvedPath = { schemaUrn: schema.urn, attribute };
  if (path.sub !== undefined) resolved.sub = resolveSubAttribute(attribute, path.sub, path);
  return resolved;
}
