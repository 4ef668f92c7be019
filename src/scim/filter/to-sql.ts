/**
 * Compiles a parsed SCIM filter to a PostgreSQL condition over a resource row aliased `r` (typed columns plus
 * a JSONB document `r.doc`), and a `sortBy` path to an ORDER BY expression.
 *
 * Safety rests on two rules: every value from the client goes through {@link SqlParams}, and the only names
 * written into SQL text are catalog names (column expressions verbatim, JSON keys as escaped literals). The
 * filter text itself never reaches the SQL.
 *
 * Every condition evaluates to true or false, never NULL, so `not (…)` and `ne` also match resources that
 * lack the attribute.
 */
import type { AttrPath, Comparison, CompareOp, FilterNode, ValuePath } from './ast.js';
import { formatPath } from './ast.js';
import type { AttributeSpec, AttributeStorage, ResourceCatalog } from './catalog.js';
import { FilterError, quoteInput } from './filter-error.js';
import { parseAttrPath } from './parse.js';
import { resolveAttrPath, resolveSubAttribute } from './resolve.js';
import type { SqlParams } from './sql-params.js';

/** A single value: a typed column expression, or a key path below a JSONB expression. */
type Source =
  | { kind: 'column'; sql: string; folded?: string | undefined }
  | { kind: 'json'; base: string; path: readonly string[] };

/** What a condition is tested on: one value, or each element of a JSONB array (true if any element matches). */
type Target =
  | { kind: 'one'; source: Source }
  | { kind: 'each'; array: string; element: readonly string[] };

/** A path resolved for use in a condition. */
interface Located {
  target: Target;
  /** The attribute whose type governs the comparison. */
  spec: AttributeSpec;
  /** The path as the client wrote it, for messages. */
  label: string;
  position: number | undefined;
}

/**
 * Where the paths of a (sub-)filter are resolved: at the resource, inside `x[…]` on one element of a
 * multi-valued attribute, or inside `x[…]` on a single-valued complex attribute.
 */
type Scope =
  | { kind: 'resource' }
  | { kind: 'element'; parent: AttributeSpec; parentPath: AttrPath; alias: string }
  | { kind: 'object'; parentPath: AttrPath };

const RESOURCE: Scope = { kind: 'resource' };

const SQL_OPS: Record<Exclude<CompareOp, 'co' | 'sw' | 'ew'>, string> = {
  eq: '=',
  ne: '=', // compiled as the negation of eq, see comparison()
  gt: '>',
  ge: '>=',
  lt: '<',
  le: '<=',
};

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$:.-]*$/;

/**
 * Writes a JSON key path as a `text[]` literal. Keys that need no quoting are written bare so the expression
 * stays readable and matches hand-written expression indexes; anything else is double-quoted inside the array
 * and the whole is an `E''` string, which reads the same whatever `standard_conforming_strings` is.
 */
function pathLiteral(path: readonly string[]): string {
  if (path.every((key) => PLAIN_KEY.test(key) && key.toLowerCase() !== 'null')) return `'{${path.join(',')}}'`;
  if (path.some((key) => key.includes('\0'))) throw new Error('JSON key contains a NUL character');
  const array = `{${path.map((key) => `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
  return `E'${array.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Parenthesises an expression that is about to become an operand, unless it is a bare column reference:
 * `#>>` binds more loosely than `::` and `COLLATE`, and catalog column expressions may be arbitrary SQL.
 */
function operand(sql: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(sql) ? sql : `(${sql})`;
}

function jsonbOf(source: Extract<Source, { kind: 'json' }>): string {
  return source.path.length === 0 ? source.base : `${source.base} #> ${pathLiteral(source.path)}`;
}

function textOf(source: Source): string {
  return source.kind === 'column' ? source.sql : `${source.base} #>> ${pathLiteral(source.path)}`;
}

/** The lower-cased text of a value, from its pre-folded column where the catalog has one. */
function foldedTextOf(source: Source): string {
  return source.kind === 'column' && source.folded ? source.folded : `lower(${textOf(source)})`;
}

/** A JSONB array expression that is `'[]'` when the document holds no array there, so iteration never fails. */
function arrayOf(spec: AttributeSpec, label: string): string {
  const storage = storageOf(spec, label);
  const value = storage.kind === 'column' ? operand(storage.sql) : `r.doc #> ${pathLiteral(storage.path)}`;
  return `CASE WHEN jsonb_typeof(${value}) = 'array' THEN ${value} ELSE '[]'::jsonb END`;
}

function storageOf(spec: AttributeSpec, label: string): AttributeStorage {
  if (spec.storage === undefined) throw new FilterError(`attribute ${quoteInput(label)} cannot be used in a filter`);
  return spec.storage;
}

function sourceOf(storage: AttributeStorage): Source {
  return storage.kind === 'column'
    ? { kind: 'column', sql: storage.sql, folded: storage.folded }
    : { kind: 'json', base: 'r.doc', path: storage.path };
}

/**
 * Where a sub-attribute of a single-valued complex attribute lives: its own storage when the catalog maps it
 * elsewhere (`meta.created` → `r.created_at`), else under the parent's JSON (a column parent holds JSONB).
 */
function subSourceOf(parent: AttributeSpec, sub: AttributeSpec, label: string): Source {
  if (sub.storage !== undefined) return sourceOf(sub.storage);
  const storage = storageOf(parent, label);
  return storage.kind === 'column'
    ? { kind: 'json', base: operand(storage.sql), path: [sub.name] }
    : { kind: 'json', base: 'r.doc', path: [...storage.path, sub.name] };
}

function at(position: number | undefined): string {
  return position === undefined ? '' : ` at position ${position}`;
}

/** Present in the SCIM sense: not absent, not null, not `""`, not an empty array or object. */
function presentSql(source: Source, spec: AttributeSpec): string {
  if (source.kind === 'json' || spec.type === 'complex') {
    const value = operand(source.kind === 'json' ? jsonbOf(source) : source.sql);
    return `COALESCE(${value} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb), false)`;
  }
  if (isStringLike(spec)) return `COALESCE(${operand(source.sql)} <> '', false)`;
  return `${operand(source.sql)} IS NOT NULL`;
}

function isStringLike(spec: AttributeSpec): boolean {
  return spec.type === 'string' || spec.type === 'reference' || spec.type === 'binary';
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * Accepts ISO 8601 / xsd:dateTime text whose fields are all in range. Stricter than `Date.parse`, which rolls
 * `2024-02-30` over to March where PostgreSQL would fail the whole query instead.
 */
function isDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (m === null || Number.isNaN(Date.parse(text.replace(' ', 'T')))) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 14 &&
    offsetMinutes <= 59
  );
}

class Compiler {
  private aliases = 0;

  constructor(
    private readonly catalog: ResourceCatalog,
    private readonly params: SqlParams,
  ) {}

  node(node: FilterNode, scope: Scope): string {
    switch (node.kind) {
      case 'and':
      case 'or': {
        const operands = this.flatten(node, node.kind).map((operand) => this.node(operand, scope));
        return `(${operands.join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
      }
      case 'not':
        // A comparison on an absent attribute is NULL, which WHERE already treats as false; only under NOT
        // must it become false first, so that `not (x eq 1)` matches resources without x. Leaves stay bare
        // everywhere else, which keeps them in the form PostgreSQL matches to an index.
        return `(NOT COALESCE(${this.node(node.inner, scope)}, false))`;
      case 'pr':
        return this.present(node.path, scope);
      case 'cmp':
        return this.comparison(node, scope);
      case 'valuePath':
        return this.valuePath(node, scope);
      default: {
        const unknown: never = node;
        throw new FilterError(`unsupported filter node ${quoteInput(JSON.stringify(unknown))}`);
      }
    }
  }

  /** Collects the operands of a chain of the same connective, so `a and b and c` is one flat SQL `AND`. */
  private flatten(node: FilterNode, kind: 'and' | 'or'): FilterNode[] {
    if (node.kind !== kind) return [node];
    return [...this.flatten(node.left, kind), ...this.flatten(node.right, kind)];
  }

  private each(target: Target, condition: (source: Source) => string): string {
    if (target.kind === 'one') return condition(target.source);
    const alias = `e${++this.aliases}`;
    const element: Source = { kind: 'json', base: `${alias}.v`, path: target.element };
    return `EXISTS (SELECT 1 FROM jsonb_array_elements(${target.array}) AS ${alias}(v) WHERE ${condition(element)})`;
  }

  /**
   * Turns a path inside `x[…]` into what it stands for: a sub-attribute of the element (element scope) or the
   * path `x.sub` (object scope). Inner paths name a plain sub-attribute, nothing longer.
   */
  private innerPath(path: AttrPath, parentPath: AttrPath): AttrPath {
    if (path.schema !== undefined || path.sub !== undefined) {
      const parent = quoteInput(formatPath(parentPath));
      throw new FilterError(`${quoteInput(formatPath(path))}${at(path.position)} is not a sub-attribute of ${parent}`);
    }
    const full: AttrPath = { attr: parentPath.attr, sub: path.attr };
    if (parentPath.schema !== undefined) full.schema = parentPath.schema;
    if (path.position !== undefined) full.position = path.position;
    return full;
  }

  /**
   * Locates the value a comparison reads. A complex attribute without a sub-attribute stands for its `value`
   * sub-attribute (`emails co "x"` means `emails.value co "x"`); a multi-valued one is tested per element.
   */
  private locateValue(path: AttrPath, scope: Scope): Located {
    if (scope.kind === 'object') return this.locateValue(this.innerPath(path, scope.parentPath), RESOURCE);
    if (scope.kind === 'element') return this.locateInElement(path, scope);
    const label = formatPath(path);
    const { attribute, sub: named } = resolveAttrPath(path, this.catalog);
    let sub = named;
    if (sub === undefined && attribute.type === 'complex') {
      sub = attribute.subAttributes?.['value'];
      if (sub === undefined) {
        throw new FilterError(
          `attribute ${quoteInput(label)}${at(path.position)} is complex; compare one of its sub-attributes instead`,
        );
      }
    }
    const spec = sub ?? attribute;
    if (attribute.multiValued) {
      const target: Target = { kind: 'each', array: arrayOf(attribute, label), element: sub ? [sub.name] : [] };
      return { target, spec, label, position: path.position };
    }
    const source = sub ? subSourceOf(attribute, sub, label) : sourceOf(storageOf(attribute, label));
    return { target: { kind: 'one', source }, spec, label, position: path.position };
  }

  private locateInElement(path: AttrPath, scope: Extract<Scope, { kind: 'element' }>): Located {
    const full = this.innerPath(path, scope.parentPath);
    const sub = resolveSubAttribute(scope.parent, path.attr, full);
    const source: Source = { kind: 'json', base: `${scope.alias}.v`, path: [sub.name] };
    return { target: { kind: 'one', source }, spec: sub, label: formatPath(full), position: path.position };
  }

  /**
   * `pr` tests the path as written: `emails pr` asks for a non-empty array, `name pr` for a non-empty object,
   * without the implicit `value` that comparisons use.
   */
  private present(path: AttrPath, scope: Scope): string {
    if (scope.kind === 'object') return this.present(this.innerPath(path, scope.parentPath), RESOURCE);
    if (scope.kind === 'element') {
      const located = this.locateInElement(path, scope);
      return this.each(located.target, (source) => presentSql(source, located.spec));
    }
    const label = formatPath(path);
    const { attribute, sub } = resolveAttrPath(path, this.catalog);
    if (sub !== undefined) {
      if (attribute.multiValued) {
        const target: Target = { kind: 'each', array: arrayOf(attribute, label), element: [sub.name] };
        return this.each(target, (source) => presentSql(source, sub));
      }
      return presentSql(subSourceOf(attribute, sub, label), sub);
    }
    if (attribute.type === 'complex' && !attribute.multiValued) {
      // Parts of a complex attribute may live in their own columns (`meta.created`); it is present if its
      // JSON object or any such part is.
      const parts = Object.values(attribute.subAttributes ?? {})
        .filter((s) => s.storage !== undefined)
        .map((s) => presentSql(subSourceOf(attribute, s, label), s));
      if (parts.length === 0) return presentSql(sourceOf(storageOf(attribute, label)), attribute);
      if (attribute.storage !== undefined) parts.unshift(presentSql(sourceOf(attribute.storage), attribute));
      return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
    }
    return presentSql(sourceOf(storageOf(attribute, label)), attribute);
  }

  private comparison(node: Comparison, scope: Scope): string {
    const { op, value, path } = node;
    if (value === null) {
      // RFC 7644 treats an attribute holding null as unassigned, so `eq null` is "absent" and `ne null` is `pr`.
      if (op === 'eq') return `NOT ${this.present(path, scope)}`;
      if (op === 'ne') return this.present(path, scope);
      throw new FilterError(`operator "${op}" cannot compare with null${at(path.position)}`);
    }
    const located = this.locateValue(path, scope);
    // `ne` is the negation of `eq` over the whole attribute: for a multi-valued one it means "no element
    // equals", and it matches resources lacking the attribute.
    const positiveOp = op === 'ne' ? 'eq' : op;
    const condition = this.each(located.target, (source) => this.compare(source, located, positiveOp, value));
    if (op !== 'ne') return condition;
    // EXISTS is never NULL; a single value is NULL when absent, and absent must count as "not equal".
    return located.target.kind === 'one' ? `NOT COALESCE(${condition}, false)` : `NOT ${condition}`;
  }

  private compare(
    source: Source,
    located: Located,
    op: Exclude<CompareOp, 'ne'>,
    value: string | number | boolean,
  ): string {
    const { spec, label, position } = located;
    const kind = isStringLike(spec) ? 'string' : spec.type;
    const notApplicable = (): FilterError =>
      new FilterError(`operator "${op}" does not apply to ${kind} attribute ${quoteInput(label)}${at(position)}`);
    const badValue = (expected: string): FilterError =>
      new FilterError(`${kind} attribute ${quoteInput(label)}${at(position)} must be compared with ${expected}`);

    if (isStringLike(spec)) {
      if (typeof value !== 'string') throw badValue('a quoted string');
      const caseInsensitive = spec.type === 'string' && !spec.caseExact;
      const fold = (sql: string): string => (caseInsensitive ? `lower(${sql})` : sql);
      const lhs = caseInsensitive ? foldedTextOf(source) : operand(textOf(source));
      if (op === 'co' || op === 'sw' || op === 'ew') {
        const escaped = escapeLike(value);
        const pattern = op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
        return `${lhs} LIKE ${fold(`${this.params.add(pattern)}::text`)} ESCAPE '\\'`;
      }
      const rhs = fold(`${this.params.add(value)}::text`);
      // Ordering compares code points (C collation) so results do not depend on the database's locale.
      const collate = op === 'eq' ? '' : ' COLLATE "C"';
      return `${lhs}${collate} ${SQL_OPS[op]} ${rhs}`;
    }

    switch (spec.type) {
      case 'dateTime': {
        if (op === 'co' || op === 'sw' || op === 'ew') throw notApplicable();
        if (typeof value !== 'string' || !isDateTime(value)) throw badValue('a quoted ISO 8601 date-time');
        const lhs = source.kind === 'column' ? operand(source.sql) : `(${textOf(source)})::timestamptz`;
        return `${lhs} ${SQL_OPS[op]} ${this.params.add(value)}::timestamptz`;
      }
      case 'integer':
      case 'decimal': {
        if (op === 'co' || op === 'sw' || op === 'ew') throw notApplicable();
        if (typeof value !== 'number') throw badValue('a number');
        if (spec.type === 'integer' && !Number.isInteger(value)) throw badValue('an integer');
        const lhs = `${operand(textOf(source))}::numeric`;
        return `${lhs} ${SQL_OPS[op]} ${this.params.add(value)}::numeric`;
      }
      case 'boolean': {
        if (op !== 'eq') throw notApplicable();
        // Microsoft Entra ID sends booleans as strings ("True"), so accept those too.
        const flag =
          typeof value === 'boolean' ? value : typeof value === 'string' ? value.toLowerCase() : undefined;
        if (flag !== true && flag !== false && flag !== 'true' && flag !== 'false') throw badValue('true or false');
        const param = this.params.add(flag === true || flag === 'true');
        return source.kind === 'column'
          ? `${operand(source.sql)} = ${param}::boolean`
          : `${operand(jsonbOf(source))} = to_jsonb(${param}::boolean)`;
      }
      default:
        throw new FilterError(`attribute ${quoteInput(label)}${at(position)} cannot be compared`);
    }
  }

  private valuePath(node: ValuePath, scope: Scope): string {
    const { path } = node;
    const label = formatPath(path);
    if (scope.kind !== 'resource') {
      throw new FilterError(`value paths may not be nested${at(path.position)}`);
    }
    if (path.sub !== undefined) {
      throw new FilterError(`value path ${quoteInput(label)}${at(path.position)} must not name a sub-attribute`);
    }
    const { attribute } = resolveAttrPath(path, this.catalog);
    if (attribute.type !== 'complex') {
      throw new FilterError(`value path ${quoteInput(label)}${at(path.position)} needs a complex attribute`);
    }
    if (!attribute.multiValued) return this.node(node.filter, { kind: 'object', parentPath: path });
    const alias = `e${++this.aliases}`;
    const inner = this.node(node.filter, { kind: 'element', parent: attribute, parentPath: path, alias });
    return `EXISTS (SELECT 1 FROM jsonb_array_elements(${arrayOf(attribute, label)}) AS ${alias}(v) WHERE ${inner})`;
  }
}

/**
 * Compiles a parsed filter to a parenthesised SQL condition on the row `r`, binding every client value
 * through `params`.
 *
 * @throws {FilterError} for unknown attributes, operators that do not fit the attribute's type, and values of
 *   the wrong type.
 */
export function filterToSql(node: FilterNode, catalog: ResourceCatalog, params: SqlParams): string {
  const sql = new Compiler(catalog, params).node(node, RESOURCE);
  // Connectives come back parenthesised already; leaves (possibly `NOT …`) do not.
  return node.kind === 'and' || node.kind === 'or' || node.kind === 'not' ? sql : `(${sql})`;
}

/** The sortable form of one value: case-insensitive strings fold to lower case, JSON text gets its SQL type. */
function sortValue(source: Source, spec: AttributeSpec): string {
  if (isStringLike(spec)) {
    return spec.type === 'string' && !spec.caseExact ? foldedTextOf(source) : operand(textOf(source));
  }
  if (source.kind === 'column') return operand(source.sql);
  const cast = { dateTime: 'timestamptz', integer: 'numeric', decimal: 'numeric', boolean: 'boolean' }[
    spec.type as 'dateTime' | 'integer' | 'decimal' | 'boolean'
  ];
  return cast === undefined ? operand(textOf(source)) : `${operand(textOf(source))}::${cast}`;
}

/**
 * Compiles a `sortBy` path to an ORDER BY expression on the row `r` (without direction). A multi-valued
 * attribute sorts by its primary element, else its first (RFC 7644 §3.4.2.3); `emails` alone means
 * `emails.value`.
 *
 * @throws {FilterError} for an unknown path or a single-valued complex attribute without a sub-attribute.
 */
export function sortToSql(path: string, catalog: ResourceCatalog): string {
  const parsed = parseAttrPath(path);
  const label = formatPath(parsed);
  const { attribute, sub: named } = resolveAttrPath(parsed, catalog);
  const sub = named ?? (attribute.multiValued ? attribute.subAttributes?.['value'] : undefined);
  if (attribute.type === 'complex' && sub === undefined) {
    throw new FilterError(`cannot sort by complex attribute ${quoteInput(label)}; name one of its sub-attributes`);
  }
  const spec = sub ?? attribute;
  if (!attribute.multiValued) {
    return sortValue(sub ? subSourceOf(attribute, sub, label) : sourceOf(storageOf(attribute, label)), spec);
  }
  const element: Source = { kind: 'json', base: 's.v', path: sub ? [sub.name] : [] };
  const primary = attribute.subAttributes?.['primary'];
  const order = primary
    ? `COALESCE((s.v #> ${pathLiteral([primary.name])}) = 'true'::jsonb, false) DESC, s.n`
    : 's.n';
  return (
    `(SELECT ${sortValue(element, spec)} FROM jsonb_array_elements(${arrayOf(attribute, label)}) ` +
    `WITH ORDINALITY AS s(v, n) ORDER BY ${order} LIMIT 1)`
  );
}
