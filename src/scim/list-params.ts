import { z } from 'zod';
import { ScimError } from '../errors/scim-error.js';

/** What a list or search asks for, after defaults and caps (RFC 7644 §3.4.2). */
export interface ListParams {
  filter: string | undefined;
  sortBy: string | undefined;
  descending: boolean;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
  attributes: string[] | undefined;
  excludedAttributes: string[] | undefined;
}

const attributeList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(','))
    .map((name) => name.trim())
    .filter(Boolean));

const integer = (name: string) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    // Decimal digits only: Number() would also accept '', ' ', '0x10' and '1e2'.
    const n = typeof value === 'number' ? value : /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be an integer` });
      return z.NEVER;
    }
    return n;
  });

const rawListParams = z.object({
  filter: z.string().optional(),
  sortBy: z.string().optional(),
  sortOrder: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['ascending', 'descending'], { message: 'sortOrder must be "ascending" or "descending"' }))
    .optional(),
  startIndex: integer('startIndex').optional(),
  count: integer('count').optional(),
  attributes: attributeList.optional(),
  excludedAttributes: attributeList.optional(),
});

/**
 * Reads list parameters from a query string or a SearchRequest body. Names are matched case-insensitively,
 * as some clients send `StartIndex`. A startIndex below 1 is read as 1 and a negative count as 0
 * (RFC 7644 §3.4.2.4); a count above the advertised maximum is capped to it.
 */
export function parseListParams(
  source: Record<string, unknown>,
  limits: { defaultCount: number; maxResults: number },
): ListParams {
  const known = ['filter', 'sortBy', 'sortOrder', 'startIndex', 'count', 'attributes', 'excludedAttributes'];
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const name = known.find((k) => k.toLowerCase() === key.toLowerCase());
    if (name && value !== undefined) picked[name] = Array.isArray(value) && name !== 'attributes' && name !== 'excludedAttributes' ? value[0] : value;
  }
  const parsed = rawListParams.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScimError(400, 'invalidValue', `${String(issue.path[0] ?? 'request')}: ${issue.message}`);
  }
  const p = parsed.data;
  const count = p.count === undefined ? limits.defaultCount : Math.max(0, p.count);
  return {
    filter: p.filter?.trim() ? p.filter : undefined,
    sortBy: p.sortBy?.trim() ? p.sortBy.trim() : undefined,
    descending: p.sortOrder === 'descending',
    startIndex: Math.max(1, p.startIndex ?? 1),
    count: Math.min(count, limits.maxResults),
    attributes: p.attributes?.length ? p.attributes : undefined,
    excludedAttributes: p.excludedAttributes?.length ? p.excludedAttributes : undefined,
  };
}
