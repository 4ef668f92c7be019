/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) over a rendered resource. Names are
 * case-insensitive, may be qualified by their schema URN, and may name a sub-attribute (`name.givenName`).
 * A value filter in a name (`emails[type eq "work"]`, which some clients send) selects the whole attribute.
 */
export interface Projection {
  attributes?: string[] | undefined;
  excludedAttributes?: string[] | undefined;
}

interface ProjectionPath {
  /** Lower-cased top-level key as it appears in the resource: `emails` or an extension URN. */
  top: string;
  /** Lower-cased sub-attribute, or for an extension, its attribute (with an optional `.sub`). */
  rest: string | undefined;
}

/** Returned whatever the client asks (RFC 7643 §7 `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

export function parseProjectionPath(name: string, coreUrn: string, extensionUrns: readonly string[]): ProjectionPath {
  const plain = name.replace(/\[[^\]]*\]/g, '').trim().toLowerCase();
  for (const urn of extensionUrns) {
    const lower = urn.toLowerCase();
    if (plain === lower) return { top: lower, rest: undefined };
    if (plain.startsWith(`${lower}:`)) return { top: lower, rest: plain.slice(lower.length + 1) };
  }
  const core = coreUrn.toLowerCase();
  const local = plain.startsWith(`${core}:`) ? plain.slice(core.length + 1) : plain;
  const dot = local.indexOf('.');
  return dot < 0 ? { top: local, rest: undefined } : { top: local.slice(0, dot), rest: local.slice(dot + 1) };
}

function pickSub(value: unknown, rest: string, include: boolean): unknown {
  const [head, ...tail] = rest.split('.');
  const apply = (obj: unknown): unknown => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return obj;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const match = k.toLowerCase() === head;
      if (match && tail.length) out[k] = pickSub(v, tail.join('.'), include);
      else if (match === include) out[k] = v;
    }
    return out;
  };
  return Array.isArray(value) ? value.map(apply) : apply(value);
}

export class Projector {
  private readonly include: ProjectionPath[] | undefined;
  private readonly exclude: ProjectionPath[];

  constructor(projection: Projection, coreUrn: string, extensionUrns: readonly string[]) {
    this.include = projection.attributes?.map((n) => parseProjectionPath(n, coreUrn, extensionUrns));
    this.exclude = (projection.excludedAttributes ?? []).map((n) => parseProjectionPath(n, coreUrn, extensionUrns));
  }

  /** Whether the response will carry this top-level attribute, so the caller can skip loading it. */
  wants(attribute: string): boolean {
    const key = attribute.toLowerCase();
    if (this.include) return this.include.some((p) => p.top === key);
    return !this.exclude.some((p) => p.top === key && p.rest === undefined);
  }

  apply(resource: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      const lower = key.toLowerCase();
      if (ALWAYS.has(lower)) {
        out[key] = value;
        continue;
      }
      let kept: unknown = value;
      if (this.include) {
        const asked = this.include.filter((p) => p.top === lower);
        if (asked.length === 0) continue;
        if (!asked.some((p) => p.rest === undefined)) {
          // Only some sub-attributes were asked for: keep those.
          kept = asked.reduce<Record<string, unknown>>((acc, p) => {
            const picked = pickSub(value, p.rest!, true);
            return mergeObjects(acc, picked);
          }, {});
          if (Array.isArray(value)) kept = mergeArrays(value, asked.map((p) => p.rest!));
        }
      }
      for (const p of this.exclude.filter((e) => e.top === lower)) {
        if (p.rest === undefined) {
          kept = undefined;
          break;
        }
        kept = pickSub(kept, p.rest, false);
      }
      if (kept !== undefined) out[key] = kept;
    }
    return out;
  }
}

function mergeObjects(acc: Record<string, unknown>, picked: unknown): Record<string, unknown> {
  return picked && typeof picked === 'object' && !Array.isArray(picked) ? { ...acc, ...(picked as Record<string, unknown>) } : acc;
}

function mergeArrays(value: unknown[], rests: string[]): unknown[] {
  return value.map((element) => {
    if (!element || typeof element !== 'object') return element;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(element as Record<string, unknown>)) {
      if (rests.includes(k.toLowerCase())) out[k] = v;
    }
    return out;
  });
}
