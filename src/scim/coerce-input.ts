import type { AttributeSpec, ResourceCatalog } from './filter/catalog.js';

/**
 * Repairs, before validation, the shapes real IdPs send that the schema would otherwise refuse:
 * - Microsoft Entra sends booleans as strings (`"True"`, `"False"`); they become JSON booleans wherever the
 *   schema says boolean.
 * - Entra sends the enterprise `manager` as a plain id string; it becomes `{ "value": id }`.
 * Anything else is left for the schema to judge. Pure: returns a new value.
 */
export function coerceToSchema(value: unknown, spec: AttributeSpec): unknown {
  if (value === null || value === undefined) return value;
  if (spec.multiValued) {
    // Elements are coerced one by one (a PATCH may send one element on its own); a bare string where an
    // element object belongs is left for the schema to refuse.
    const element = { ...spec, multiValued: false };
    const one = (item: unknown) => (typeof item === 'string' && spec.type === 'complex' ? item : coerceToSchema(item, element));
    return Array.isArray(value) ? value.map(one) : one(value);
  }
  switch (spec.type) {
    case 'boolean':
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      return value;
    case 'complex': {
      const subs = spec.subAttributes ?? {};
      if (typeof value === 'string' && subs['value']) return { value };
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        const sub = subs[key.toLowerCase()];
        out[key] = sub ? coerceToSchema(inner, sub) : inner;
      }
      return out;
    }
    default:
      return value;
  }
}

/** Finds the spec of a top-level key of a resource body: a core attribute or an extension object. */
export function lookupTopLevel(key: string, catalog: ResourceCatalog): AttributeSpec | { extension: Readonly<Record<string, AttributeSpec>> } | undefined {
  const lower = key.toLowerCase();
  const extension = catalog.extensions.find((e) => e.urn.toLowerCase() === lower);
  if (extension) return { extension: extension.attributes };
  return catalog.core.attributes[lower];
}

/** Applies {@link coerceToSchema} to every attribute of a whole resource body (POST, PUT). */
export function coerceResource(body: Record<string, unknown>, catalog: ResourceCatalog): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const found = lookupTopLevel(key, catalog);
    if (!found) out[key] = value;
    else if ('extension' in found) out[key] = coerceExtension(value, found.extension);
    else out[key] = coerceToSchema(value, found);
  }
  return out;
}

export function coerceExtension(value: unknown, attributes: Readonly<Record<string, AttributeSpec>>): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const spec = attributes[key.toLowerCase()];
    out[key] = spec ? coerceToSchema(inner, spec) : inner;
  }
  return out;
}
