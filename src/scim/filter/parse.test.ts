import { describe, expect, it } from 'vitest';
import type { FilterNode } from './ast.js';
import { FilterError } from './filter-error.js';
import { parseAttrPath, parseFilter } from './parse.js';

/** Drops source positions so expectations can state just the tree. */
function tree(text: string): unknown {
  return JSON.parse(JSON.stringify(parseFilter(text), (key, value: unknown) => (key === 'position' ? undefined : value)));
}

function cmp(attr: string, op: string, value: unknown): unknown {
  return { kind: 'cmp', path: { attr }, op, value };
}

function errorOf(text: string, opts?: Parameters<typeof parseFilter>[1]): FilterError {
  try {
    parseFilter(text, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(FilterError);
    return error as FilterError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseFilter: attribute expressions', () => {
  it('parses a comparison and records where the path starts', () => {
    expect(parseFilter('userName eq "bjensen"')).toEqual({
      kind: 'cmp',
      path: { attr: 'userName', position: 0 },
      op: 'eq',
      value: 'bjensen',
    });
    const node = parseFilter('  (title pr)') as Extract<FilterNode, { kind: 'pr' }>;
    expect(node.path.position).toBe(3);
  });

  it.each(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])('accepts operator %s in any case', (op) => {
    expect(tree(`title ${op} "x"`)).toEqual(cmp('title', op, 'x'));
    expect(tree(`title ${op.toUpperCase()} "x"`)).toEqual(cmp('title', op, 'x'));
    expect(tree(`title ${op.charAt(0).toUpperCase()}${op.charAt(1)} "x"`)).toEqual(cmp('title', op, 'x'));
  });

  it('parses pr in any case', () => {
    expect(tree('title pr')).toEqual({ kind: 'pr', path: { attr: 'title' } });
    expect(tree('title PR')).toEqual({ kind: 'pr', path: { attr: 'title' } });
  });

  it('parses true, false and null in any case', () => {
    expect(tree('active eq true')).toEqual(cmp('active', 'eq', true));
    expect(tree('active eq FALSE')).toEqual(cmp('active', 'eq', false));
    expect(tree('active eq True')).toEqual(cmp('active', 'eq', true));
    expect(tree('title eq Null')).toEqual(cmp('title', 'eq', null));
  });

  it('keeps quoted booleans as strings', () => {
    expect(tree('active eq "True"')).toEqual(cmp('active', 'eq', 'True'));
  });

  it('parses JSON numbers', () => {
    expect(tree('n eq 0')).toEqual(cmp('n', 'eq', 0));
    expect(tree('n eq 42')).toEqual(cmp('n', 'eq', 42));
    expect(tree('n eq -7')).toEqual(cmp('n', 'eq', -7));
    expect(tree('n eq 1.25')).toEqual(cmp('n', 'eq', 1.25));
    expect(tree('n eq -1.5e3')).toEqual(cmp('n', 'eq', -1500));
    expect(tree('n eq 2E+2')).toEqual(cmp('n', 'eq', 200));
    expect(tree('n eq 5e-1')).toEqual(cmp('n', 'eq', 0.5));
  });

  it('decodes JSON string escapes', () => {
    expect(tree(String.raw`title eq "a\"b"`)).toEqual(cmp('title', 'eq', 'a"b'));
    expect(tree(String.raw`title eq "caf\u00e9"`)).toEqual(cmp('title', 'eq', 'café'));
    expect(tree(String.raw`title eq "back\\slash\/\n\t"`)).toEqual(cmp('title', 'eq', 'back\\slash/\n\t'));
    expect(tree('title eq ""')).toEqual(cmp('title', 'eq', ''));
    expect(tree('title eq "and or not ( ) [ ]"')).toEqual(cmp('title', 'eq', 'and or not ( ) [ ]'));
    expect(tree('title eq "日本"')).toEqual(cmp('title', 'eq', '日本'));
  });

  it('splits sub-attributes', () => {
    expect(tree('name.givenName eq "B"')).toEqual({
      kind: 'cmp',
      path: { attr: 'name', sub: 'givenName' },
      op: 'eq',
      value: 'B',
    });
    expect(tree('meta.lastModified gt "2011-05-13T04:42:34Z"')).toEqual({
      kind: 'cmp',
      path: { attr: 'meta', sub: 'lastModified' },
      op: 'gt',
      value: '2011-05-13T04:42:34Z',
    });
    expect(tree('manager.$ref pr')).toEqual({ kind: 'pr', path: { attr: 'manager', sub: '$ref' } });
  });

  it('splits a schema URN prefix at the last colon, dots in the URN included', () => {
    expect(tree('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"')).toEqual({
      kind: 'cmp',
      path: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'employeeNumber' },
      op: 'eq',
      value: '701984',
    });
    expect(tree('urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "B"')).toEqual({
      kind: 'cmp',
      path: { schema: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'name', sub: 'givenName' },
      op: 'sw',
      value: 'B',
    });
    expect(tree('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr')).toEqual({
      kind: 'pr',
      path: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager', sub: 'value' },
    });
  });

  it('accepts tabs, line breaks and repeated spaces between tokens', () => {
    expect(tree('\t userName   eq\t"x"  ')).toEqual(cmp('userName', 'eq', 'x'));
    expect(tree('a eq 1\n and\r\nb eq 2')).toEqual({ kind: 'and', left: cmp('a', 'eq', 1), right: cmp('b', 'eq', 2) });
  });

  it('needs no space next to brackets and parentheses', () => {
    expect(tree('not(a pr)')).toEqual({ kind: 'not', inner: { kind: 'pr', path: { attr: 'a' } } });
    expect(tree('(a eq 1)and(b eq 2)')).toEqual({ kind: 'and', left: cmp('a', 'eq', 1), right: cmp('b', 'eq', 2) });
  });
});

describe('parseFilter: logic and precedence', () => {
  const a = cmp('a', 'eq', 1);
  const b = cmp('b', 'eq', 2);
  const c = cmp('c', 'eq', 3);

  it('binds and tighter than or', () => {
    expect(tree('a eq 1 or b eq 2 and c eq 3')).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(tree('a eq 1 and b eq 2 or c eq 3')).toEqual({ kind: 'or', left: { kind: 'and', left: a, right: b }, right: c });
  });

  it('associates chains to the left', () => {
    expect(tree('a eq 1 or b eq 2 or c eq 3')).toEqual({ kind: 'or', left: { kind: 'or', left: a, right: b }, right: c });
    expect(tree('a eq 1 and b eq 2 and c eq 3')).toEqual({
      kind: 'and',
      left: { kind: 'and', left: a, right: b },
      right: c,
    });
  });

  it('lets parentheses override precedence', () => {
    expect(tree('(a eq 1 or b eq 2) and c eq 3')).toEqual({
      kind: 'and',
      left: { kind: 'or', left: a, right: b },
      right: c,
    });
    expect(tree('((a eq 1))')).toEqual(a);
  });

  it('negates the whole parenthesised group after not', () => {
    expect(tree('not (a eq 1 or b eq 2)')).toEqual({ kind: 'not', inner: { kind: 'or', left: a, right: b } });
    expect(tree('not (a eq 1 or b eq 2) and c eq 3')).toEqual({
      kind: 'and',
      left: { kind: 'not', inner: { kind: 'or', left: a, right: b } },
      right: c,
    });
    expect(tree('c eq 3 or not (a eq 1) and b eq 2')).toEqual({
      kind: 'or',
      left: c,
      right: { kind: 'and', left: { kind: 'not', inner: a }, right: b },
    });
    expect(tree('NOT (Not (a eq 1))')).toEqual({ kind: 'not', inner: { kind: 'not', inner: a } });
  });

  it('accepts logical operators in any case', () => {
    expect(tree('a eq 1 AND b eq 2 Or c eq 3')).toEqual({
      kind: 'or',
      left: { kind: 'and', left: a, right: b },
      right: c,
    });
  });
});

describe('parseFilter: value paths', () => {
  it('parses a value filter with its own logic', () => {
    expect(tree('emails[type eq "work" and value co "@example.com"]')).toEqual({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: {
        kind: 'and',
        left: cmp('type', 'eq', 'work'),
        right: cmp('value', 'co', '@example.com'),
      },
    });
  });

  it('combines value paths with other expressions', () => {
    expect(
      tree('userType eq "Employee" and (emails[type eq "work"] or ims[type eq "xmpp" and not (value pr)])'),
    ).toEqual({
      kind: 'and',
      left: cmp('userType', 'eq', 'Employee'),
      right: {
        kind: 'or',
        left: { kind: 'valuePath', path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work') },
        right: {
          kind: 'valuePath',
          path: { attr: 'ims' },
          filter: {
            kind: 'and',
            left: cmp('type', 'eq', 'xmpp'),
            right: { kind: 'not', inner: { kind: 'pr', path: { attr: 'value' } } },
          },
        },
      },
    });
  });

  it('accepts a URN-qualified value path and grouping inside it', () => {
    expect(tree('urn:ietf:params:scim:schemas:core:2.0:User:emails[(type eq "a" or type eq "b") and primary eq true]')).toEqual({
      kind: 'valuePath',
      path: { schema: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'emails' },
      filter: {
        kind: 'and',
        left: { kind: 'or', left: cmp('type', 'eq', 'a'), right: cmp('type', 'eq', 'b') },
        right: cmp('primary', 'eq', true),
      },
    });
  });

  it('may be negated', () => {
    expect(tree('not (emails[type eq "work"])')).toEqual({
      kind: 'not',
      inner: { kind: 'valuePath', path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work') },
    });
  });
});

describe('parseFilter: errors', () => {
  it.each([
    ['', 'filter is empty'],
    ['  \t ', 'filter is empty'],
    ['userName', 'unexpected end of filter after "userName"'],
    ['userName eq', 'unexpected end of filter after "eq"'],
    ['a eq 1 and', 'unexpected end of filter after "and"'],
    ['a eq 1 or', 'unexpected end of filter after "or"'],
    ['not', 'unexpected end of filter after "not"'],
    ['not (', 'unexpected end of filter after "("'],
    ['not a eq 1', 'expected "(" after "not" at position 4, found "a"'],
    ['a foo "x"', 'unknown operator "foo" at position 2'],
    ['a "x"', 'unknown operator string "x" at position 2'],
    ['a === "x"', 'unexpected character "=" at position 2'],
    ["a eq 'x'", 'unexpected character "\'" at position 5 (strings must be in double quotes)'],
    ['a eq (b)', 'invalid value "(" at position 5'],
    ['a eq 1 b eq 2', 'expected "and" or "or" at position 7, found "b"'],
    ['a eq 1 "x"', 'expected "and" or "or" at position 7, found string "x"'],
    ['a pr eq 1', 'expected "and" or "or" at position 5, found "eq"'],
    ['(a eq 1', 'missing ")" to close "(" at position 0; found the end of the filter'],
    ['((a eq 1) or b pr', 'missing ")" to close "(" at position 0'],
    ['a eq 1)', 'unbalanced ")" at position 6'],
    ['a eq 1]', 'unbalanced "]" at position 6'],
    ['emails[type eq "work"', 'missing "]" to close "[" at position 6; found the end of the filter'],
    ['emails[type eq "work")', 'missing "]" to close "[" at position 6; found ")" at position 21'],
    ['(emails[type eq "work")]', 'missing "]" to close "["'],
    ['()', 'expected an attribute path at position 1, found ")"'],
    ['emails[]', 'expected an attribute path at position 7, found "]"'],
    ['and eq 1', 'expected an attribute path at position 0, found "and"'],
    ['a eq 1 and or b eq 2', 'expected an attribute path at position 11, found "or"'],
    ['"x" eq a', 'expected an attribute path at position 0, found string "x"'],
    ['1 eq 1', 'expected an attribute path at position 0, found "1"'],
    ['emails[type[value eq 1]]', 'value paths may not be nested, at position 11'],
    ['name.givenName[value eq 1]', 'value path "name.givenName" at position 0 must name an attribute'],
    ['a.b.c eq 1', 'invalid attribute path "a.b.c" at position 0'],
    ['a. eq 1', 'invalid attribute path "a." at position 0'],
    ['.a eq 1', 'invalid attribute path ".a" at position 0'],
    ['urn:x: eq 1', 'invalid attribute path "urn:x:" at position 0'],
    [':a eq 1', 'invalid attribute path ":a" at position 0'],
    ['_a eq 1', 'invalid attribute path "_a" at position 0'],
    ['a eq "open', 'unterminated string starting at position 5'],
    ['a eq "ends in backslash\\"', 'unterminated string starting at position 5'],
    [String.raw`a eq "bad \x escape"`, 'invalid string "\\"bad \\\\x escape\\"" at position 5'],
    ['a eq "raw\ttab"', 'invalid string'],
    ['a eq "\\u12"', 'invalid string'],
  ])('rejects %j', (text, message) => {
    const error = errorOf(text);
    expect(error.message).toContain(message);
    expect(error.code).toBe('invalidFilter');
    expect(error.name).toBe('FilterError');
  });

  it('reads unquoted values as strings, as Microsoft\'s validator sends them', () => {
    for (const [text, value] of [
      ['a eq bjensen', 'bjensen'],
      ['a sw O', 'O'],
      ['a co example.com', 'example.com'],
      ['a gt 2015-10-10T14:38:21.8617979-07:00', '2015-10-10T14:38:21.8617979-07:00'],
      ['a eq 12abc', '12abc'],
      ['a eq 01', '01'],
      ['a eq 1e999', '1e999'],
    ] as const) {
      expect(parseFilter(text), text).toMatchObject({ kind: 'cmp', value });
    }
    expect(parseFilter('a eq Employee and (b co x or b co y)')).toMatchObject({ kind: 'and', left: { value: 'Employee' }, right: { kind: 'or' } });
  });

  it('never quotes more than a short excerpt of the input', () => {
    const long = 'x'.repeat(3000);
    const texts = [`a eq 1 ${long}`, `${long} eq 1`, `a ${long} 1`, `a eq "${long}`, `a eq 1 ${long}`, `a eq "${long}" "${long}"`];
    for (const text of texts) {
      expect(errorOf(text).message.length).toBeLessThan(160);
    }
  });

  it('escapes control characters it quotes back', () => {
    expect(errorOf('a eq 1 "x\\ny"').message).toContain('"x\\ny"');
  });
});

describe('parseFilter: limits', () => {
  it('rejects filters longer than maxLength', () => {
    const text = `title eq "${'x'.repeat(4100)}"`;
    expect(errorOf(text).message).toBe('filter is longer than 4096 characters');
    expect(() => parseFilter('title eq "abc"', { maxLength: 10 })).toThrow('filter is longer than 10 characters');
    expect(tree(`title eq "${'x'.repeat(4000)}"`)).toEqual(cmp('title', 'eq', 'x'.repeat(4000)));
  });

  it('rejects more than maxTerms conditions, counting inside value paths', () => {
    const terms = (n: number): string => Array.from({ length: n }, (_, i) => `a eq ${i}`).join(' or ');
    expect(() => parseFilter(terms(64))).not.toThrow();
    expect(errorOf(terms(65)).message).toBe('filter has more than 64 conditions, at position 694');
    expect(() => parseFilter('a pr and b pr', { maxTerms: 2 })).not.toThrow();
    expect(() => parseFilter('a pr and emails[type pr and value pr]', { maxTerms: 2 })).toThrow(FilterError);
  });

  it('rejects nesting deeper than maxDepth', () => {
    const nested = (n: number): string => `${'not ('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(() => parseFilter(nested(16))).not.toThrow();
    expect(errorOf(nested(17)).message).toBe('filter nests deeper than 16 levels at position 84');
    expect(() => parseFilter('(emails[(type pr)])', { maxDepth: 2 })).toThrow('nests deeper than 2 levels');
    expect(() => parseFilter('(emails[type pr]) and (a pr)', { maxDepth: 2 })).not.toThrow();
  });

  it('survives pathological input quickly', () => {
    const started = Date.now();
    for (const text of ['('.repeat(4000), '['.repeat(4000), 'a eq 1 and '.repeat(400), '"'.repeat(4000), '\\'.repeat(4000)]) {
      expect(() => parseFilter(text)).toThrow(FilterError);
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('parseAttrPath', () => {
  it('parses plain, dotted and URN-qualified paths', () => {
    expect(parseAttrPath('userName')).toEqual({ attr: 'userName' });
    expect(parseAttrPath(' name.familyName ')).toEqual({ attr: 'name', sub: 'familyName' });
    expect(parseAttrPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department')).toEqual({
      schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      attr: 'department',
    });
  });

  it.each(['', ' ', 'a b', 'a.b.c', 'emails[type eq "x"]', 'a,b', '1a'])('rejects %j', (text) => {
    expect(() => parseAttrPath(text)).toThrow(FilterError);
  });
});
