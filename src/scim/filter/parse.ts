/**
 * Parser for SCIM filter expressions (RFC 7644 §3.4.2.2, Figure 1): a small tokenizer and a recursive-descent
 * parser with precedence `not` > `and` > `or`. It checks syntax only; attribute names are matched against the
 * schema later (`resolve.ts`), so this module needs no catalog.
 */
import type { AttrPath, CompareOp, FilterNode, FilterValue } from './ast.js';
import { COMPARE_OPS } from './ast.js';
import { FilterError, quoteInput } from './filter-error.js';

/** Limits that keep a hostile filter from costing much to parse or to run. */
export interface ParseFilterOptions {
  /** Longest accepted filter, in UTF-16 code units. Default 4096. */
  maxLength?: number;
  /** Most attribute expressions (`a eq 1`, `a pr`) in one filter, value-path contents included. Default 64. */
  maxTerms?: number;
  /** Deepest nesting of parentheses and value-path brackets. Default 16. */
  maxDepth?: number;
}

const DEFAULT_MAX_LENGTH = 4096;
const DEFAULT_MAX_TERMS = 64;
const DEFAULT_MAX_DEPTH = 16;
/** A path is one word, so anything this long is not a real attribute path. */
const MAX_PATH_LENGTH = 1024;

type TokenType = 'word' | 'string' | 'number' | '(' | ')' | '[' | ']';

interface Token {
  type: TokenType;
  /** The source text of the token. */
  text: string;
  /** Offset of the token in the filter text. */
  pos: number;
  /** Decoded value, for string and number tokens. */
  value?: string | number;
}

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
// Wide enough for URN-qualified paths (`urn:…:2.0:User:name.givenName`) and `$ref`; the parts are validated
// once the word is known to be a path.
const WORD_CHAR = /[A-Za-z0-9:._$-]/;
/**
 * What an unquoted comparison value may be made of. RFC 7644 wants strings quoted, but Microsoft's SCIM
 * validator sends `userName sw O` and `meta.created gt 2015-10-10T14:38:21.8617979-07:00`; such bare words
 * are read as strings. Attribute names and operators are still checked strictly.
 */
const BARE_CHAR = /[^\s()[\]"']/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ATTR_NAME = /^[A-Za-z$][A-Za-z0-9_$-]*$/;

/** Describes a token for an error message, quoting at most a short excerpt of it. */
function describe(token: Token): string {
  return token.type === 'string' ? `string ${quoteInput(String(token.value))}` : quoteInput(token.text);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (WHITESPACE.has(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ type: c, text: c, pos: i });
      i++;
    } else if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
      if (i >= text.length) throw new FilterError(`unterminated string starting at position ${start}`);
      i++;
      const raw = text.slice(start, i);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new FilterError(`invalid string ${quoteInput(raw)} at position ${start}`);
      }
      tokens.push({ type: 'string', text: raw, pos: start, value: value as string });
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      const end = match === null ? i : i + match[0].length;
      const raw = text.slice(i, end);
      const value = Number(raw);
      // A number must end at a delimiter: `12abc` or `1.` is a typo, not a number followed by a word.
      if (match === null || (end < text.length && BARE_CHAR.test(text.charAt(end))) || !Number.isFinite(value)) {
        // Not a number after all (`2015-10-10T14:38:21Z`, `12abc`): an unquoted word, judged where it stands.
        const start = i;
        while (i < text.length && BARE_CHAR.test(text.charAt(i))) i++;
        tokens.push({ type: 'word', text: text.slice(start, i), pos: start });
        continue;
      }
      tokens.push({ type: 'number', text: raw, pos: i, value });
      i = end;
    } else if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < text.length && BARE_CHAR.test(text.charAt(i))) i++;
      tokens.push({ type: 'word', text: text.slice(start, i), pos: start });
    } else {
      const hint = c === "'" ? ' (strings must be in double quotes)' : '';
      throw new FilterError(`unexpected character ${quoteInput(c)} at position ${i}${hint}`);
    }
  }
  return tokens;
}

/**
 * Splits a path word at its last `:` (URNs contain dots and colons, attribute names contain neither), then
 * the remainder at `.` into attribute and sub-attribute.
 */
function splitPath(word: string, pos: number | undefined): AttrPath {
  const at = pos === undefined ? '' : ` at position ${pos}`;
  const invalid = (): FilterError => new FilterError(`invalid attribute path ${quoteInput(word)}${at}`);
  if (word.length > MAX_PATH_LENGTH) throw invalid();
  const colon = word.lastIndexOf(':');
  const schema = colon < 0 ? undefined : word.slice(0, colon);
  const names = word.slice(colon + 1).split('.');
  const [attr, sub] = names;
  if (names.length > 2 || attr === undefined || !ATTR_NAME.test(attr)) throw invalid();
  if (sub !== undefined && !ATTR_NAME.test(sub)) throw invalid();
  if (schema !== undefined && !/^[A-Za-z][A-Za-z0-9:._-]*$/.test(schema)) throw invalid();
  const path: AttrPath = schema === undefined ? { attr } : { schema, attr };
  if (sub !== undefined) path.sub = sub;
  if (pos !== undefined) path.position = pos;
  return path;
}

const OPERATORS = new Set<string>([...COMPARE_OPS, 'pr']);

class Parser {
  private index = 0;
  private depth = 0;
  private terms = 0;
  private inValuePath = false;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly maxTerms: number,
    private readonly maxDepth: number,
  ) {}

  parse(): FilterNode {
    const node = this.parseOr();
    const extra = this.peek();
    if (extra !== undefined) {
      if (extra.type === ')' || extra.type === ']') {
        throw new FilterError(`unbalanced ${quoteInput(extra.text)} at position ${extra.pos}`);
      }
      throw new FilterError(`expected "and" or "or" at position ${extra.pos}, found ${describe(extra)}`);
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private isKeyword(token: Token | undefined, keyword: string): boolean {
    return token?.type === 'word' && token.text.toLowerCase() === keyword;
  }

  /** Takes the next token, or reports that the filter stops right after `previous`. */
  private next(previous: Token | undefined): Token {
    const token = this.tokens[this.index];
    if (token === undefined) {
      throw new FilterError(
        previous === undefined ? 'filter is empty' : `unexpected end of filter after ${describe(previous)}`,
      );
    }
    this.index++;
    return token;
  }

  private previous(): Token | undefined {
    return this.tokens[this.index - 1];
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.index++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isKeyword(this.peek(), 'and')) {
      this.index++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const token = this.next(this.previous());
    if (token.type === '(') return this.parseGroup(token);
    if (this.isKeyword(token, 'not')) {
      const open = this.next(token);
      if (open.type !== '(') {
        throw new FilterError(`expected "(" after "not" at position ${open.pos}, found ${describe(open)}`);
      }
      return { kind: 'not', inner: this.parseGroup(open) };
    }
    if (token.type !== 'word' || this.isKeyword(token, 'and') || this.isKeyword(token, 'or')) {
      throw new FilterError(`expected an attribute path at position ${token.pos}, found ${describe(token)}`);
    }
    return this.parseAttrExpression(token);
  }

  private enter(open: Token): void {
    this.depth++;
    if (this.depth > this.maxDepth) {
      throw new FilterError(`filter nests deeper than ${this.maxDepth} levels at position ${open.pos}`);
    }
  }

  private close(open: Token, type: ')' | ']'): void {
    const token = this.peek();
    if (token?.type !== type) {
      const found = token === undefined ? 'the end of the filter' : `${describe(token)} at position ${token.pos}`;
      throw new FilterError(`missing "${type}" to close "${open.text}" at position ${open.pos}; found ${found}`);
    }
    this.index++;
    this.depth--;
  }

  private parseGroup(open: Token): FilterNode {
    this.enter(open);
    const inner = this.parseOr();
    this.close(open, ')');
    return inner;
  }

  private parseAttrExpression(word: Token): FilterNode {
    const path = splitPath(word.text, word.pos);
    const after = this.peek();
    if (after?.type === '[') return this.parseValuePath(path, word, after);
    this.terms++;
    if (this.terms > this.maxTerms) {
      throw new FilterError(`filter has more than ${this.maxTerms} conditions, at position ${word.pos}`);
    }
    const opToken = this.next(word);
    const op = opToken.type === 'word' ? opToken.text.toLowerCase() : '';
    if (!OPERATORS.has(op)) {
      throw new FilterError(`unknown operator ${describe(opToken)} at position ${opToken.pos}`);
    }
    if (op === 'pr') return { kind: 'pr', path };
    const value = this.parseValue(this.next(opToken));
    return { kind: 'cmp', path, op: op as CompareOp, value };
  }

  private parseValuePath(path: AttrPath, word: Token, open: Token): FilterNode {
    if (this.inValuePath) throw new FilterError(`value paths may not be nested, at position ${open.pos}`);
    if (path.sub !== undefined) {
      throw new FilterError(
        `value path ${quoteInput(word.text)} at position ${word.pos} must name an attribute, not a sub-attribute`,
      );
    }
    this.index++;
    this.enter(open);
    this.inValuePath = true;
    const filter = this.parseOr();
    this.inValuePath = false;
    this.close(open, ']');
    return { kind: 'valuePath', path, filter };
  }

  private parseValue(token: Token): FilterValue {
    if (token.type === 'string' || token.type === 'number') return token.value as string | number;
    if (token.type === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      return token.text;
    }
    throw new FilterError(
      `invalid value ${describe(token)} at position ${token.pos} ` +
        '(expected a "quoted string", number, true, false or null)',
    );
  }
}

/**
 * Parses a SCIM filter such as `userName eq "bjensen" and not (emails[type eq "work"] pr)`.
 *
 * Operators and the literals `true`/`false`/`null` are case-insensitive; strings are JSON strings; attribute
 * paths may carry a schema URN prefix. Attribute names are not checked against any schema here.
 *
 * @throws {FilterError} on a syntax error, an empty filter or a filter over the limits in `opts`.
 */
export function parseFilter(text: string, opts: ParseFilterOptions = {}): FilterNode {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) throw new FilterError(`filter is longer than ${maxLength} characters`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new FilterError('filter is empty');
  return new Parser(tokens, opts.maxTerms ?? DEFAULT_MAX_TERMS, opts.maxDepth ?? DEFAULT_MAX_DEPTH).parse();
}

/**
 * Parses a lone attribute path, as in `sortBy=name.familyName` or `attributes=…`, with the same rules as
 * paths inside a filter.
 *
 * @throws {FilterError} when `text` is not a single well-formed attribute path.
 */
export function parseAttrPath(text: string): AttrPath {
  const word = text.trim();
  if (word === '') throw new FilterError('attribute path is empty');
  if (word.length > MAX_PATH_LENGTH || ![...word].every((c) => WORD_CHAR.test(c))) {
    throw new FilterError(`invalid attribute path ${quoteInput(word)}`);
  }
  return splitPath(word, undefined);
}
