import { canonicalJson } from '../audit/canonical-json.js';

/**
 * What Lanyard keeps of a resource body: every attribute the schema accepted, minus what it derives or
 * must never hold (`id`, `meta`, `schemas`, `groups`, `members`, `password`).
 */
const NOT_STORED = new Set(['id', 'meta', 'schemas', 'groups', 'members', 'password']);

export function toStoredDocument(validated: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(validated)) {
    if (!NOT_STORED.has(key.toLowerCase()) && value !== undefined) doc[key] = value;
  }
  return doc;
}

/**
 * Names of the attributes that differ between two stored documents, one level deep: `name.givenName`,
 * `urn:…:User:department`, `emails`. The audit trail records these names, never the values.
 */
export function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (sameJson(a, b)) continue;
    if (isPlainObject(a) || isPlainObject(b)) {
      const inner = changedAttributes(isPlainObject(a) ? a : {}, isPlainObject(b) ? b : {});
      const separator = key.startsWith('urn:') ? ':' : '.';
      changed.push(...inner.map((name) => `${key}${separator}${name.split(/[.:]/)[0]}`));
    } else {
      changed.push(key);
    }
  }
  return [...new Set(changed)].sort();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Key order carries no meaning (PostgreSQL's jsonb reorders keys), so compare canonical forms.
function sameJson(a: unknown, b: unknown): boolean {
  return a === undefined || b === undefined ? a === b : canonicalJson(a) === canonicalJson(b);
}
