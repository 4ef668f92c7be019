/**
 * The parsed form of a SCIM filter (RFC 7644 §3.4.2.2). Names are kept exactly as the client wrote them;
 * matching them to the schema is `resolve.ts`'s job, so the parser needs no catalog.
 */

/** An attribute reference such as `name.givenName` or `urn:…:enterprise:2.0:User:department`. */
export interface AttrPath {
  /** The schema URN prefix as written, without its trailing `:`; absent for unqualified names. */
  schema?: string;
  /** The attribute name as written. */
  attr: string;
  /** The sub-attribute name as written, for `attr.sub`. */
  sub?: string;
  /** Offset of the path in the filter text, so later errors (unknown attribute, bad operator) can point at it. */
  position?: number;
}

/** The comparison operators of RFC 7644 Table 3, lower-cased. */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A comparison value: a JSON string, number, boolean or null. */
export type FilterValue = string | number | boolean | null;

/** `path op value`. */
export interface Comparison {
  kind: 'cmp';
  path: AttrPath;
  op: CompareOp;
  value: FilterValue;
}

/** `path pr`. */
export interface Present {
  kind: 'pr';
  path: AttrPath;
}

/** `left and right`. */
export interface And {
  kind: 'and';
  left: FilterNode;
  right: FilterNode;
}

/** `left or right`. */
export interface Or {
  kind: 'or';
  left: FilterNode;
  right: FilterNode;
}

/** `not (inner)`. */
export interface Not {
  kind: 'not';
  inner: FilterNode;
}

/**
 * `emails[type eq "work" and value co "@x"]`: true when one element of the multi-valued attribute `path`
 * satisfies `filter`, whose paths name sub-attributes of that element.
 */
export interface ValuePath {
  kind: 'valuePath';
  path: AttrPath;
  filter: FilterNode;
}

/** Any node of a parsed filter. */
export type FilterNode = Comparison | Present | And | Or | Not | ValuePath;

/** Every operator accepted in `path op value`, for validation and messages. */
export const COMPARE_OPS: readonly CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

/** Renders a path the way a client would write it, for error messages. */
export function formatPath(path: AttrPath): string {
  const name = path.sub === undefined ? path.attr : `${path.attr}.${path.sub}`;
  return path.schema === undefined ? name : `${path.schema}:${name}`;
}
