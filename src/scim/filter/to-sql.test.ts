import { describe, expect, it } from 'vitest';
import { ACME, CORE, ENTERPRISE, json, spec, userCatalog } from '../../../test/helpers/sample-user-catalog.js';
import type { FilterNode } from './ast.js';
import type { AttributeSpec, ResourceCatalog } from './catalog.js';
import { FilterError } from './filter-error.js';
import { parseFilter } from './parse.js';
import { resolveAttrPath } from './resolve.js';
import { SqlParams } from './sql-params.js';
import { filterToSql, sortToSql } from './to-sql.js';

/** Compiles `text` after one value the caller bound itself, so placeholder numbering is exercised throughout. */
function compile(text: string, catalog: ResourceCatalog = userCatalog()): { sql: string; values: unknown[] } {
  const params = new SqlParams(['tenant']);
  const sql = filterToSql(parseFilter(text), catalog, params);
  return { sql, values: params.values.slice(1) };
}

function compileError(text: string, catalog: ResourceCatalog = userCatalog()): FilterError {
  try {
    compile(text, catalog);
  } catch (error) {
    expect(error).toBeInstanceOf(FilterError);
    return error as FilterError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

/** The guarded array iteration source for a JSON path literal. */
function elements(literal: string): string {
  return `CASE WHEN jsonb_typeof(r.doc #> ${literal}) = 'array' THEN r.doc #> ${literal} ELSE '[]'::jsonb END`;
}

const PRESENT = `NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb)`;

describe('SqlParams', () => {
  it('numbers placeholders after the initial values and copies them', () => {
    const initial = ['a', 'b'];
    const params = new SqlParams(initial);
    expect(params.add(1)).toBe('$3');
    expect(params.add(null)).toBe('$4');
    expect(params.values).toEqual(['a', 'b', 1, null]);
    expect(initial).toEqual(['a', 'b']);
    expect(new SqlParams().add('x')).toBe('$1');
  });
});

describe('resolveAttrPath', () => {
  const catalog = userCatalog();

  it('matches schema URNs and attribute names case-insensitively', () => {
    const resolved = resolveAttrPath({ schema: CORE.toUpperCase(), attr: 'NAME', sub: 'givenname' }, catalog);
    expect(resolved.schemaUrn).toBe(CORE);
    expect(resolved.attribute.name).toBe('name');
    expect(resolved.sub?.name).toBe('givenName');
    expect(resolveAttrPath({ schema: ENTERPRISE.toLowerCase(), attr: 'department' }, catalog).schemaUrn).toBe(ENTERPRISE);
  });

  it('looks unqualified names up in the core schema only', () => {
    expect(() => resolveAttrPath({ attr: 'department' }, catalog)).toThrow('unknown attribute "department"');
    // Long paths are quoted back shortened in the middle, keeping the attribute name.
    expect(() => resolveAttrPath({ schema: ENTERPRISE, attr: 'userName' }, catalog)).toThrow(
      /^unknown attribute "urn:ietf:params:scim:schemas:ext…on:enterprise:2.0:User:userName"$/,
    );
  });

  it('names what it cannot find', () => {
    expect(() => resolveAttrPath({ attr: 'fooBar', position: 0 }, catalog)).toThrow('unknown attribute "fooBar" at position 0');
    expect(() => resolveAttrPath({ attr: 'name', sub: 'middle', position: 4 }, catalog)).toThrow(
      'unknown attribute "name.middle" at position 4',
    );
    expect(() => resolveAttrPath({ attr: 'userName', sub: 'x' }, catalog)).toThrow('unknown attribute "userName.x"');
    expect(() => resolveAttrPath({ schema: 'urn:nope', attr: 'x' }, catalog)).toThrow('unknown schema "urn:nope"');
    expect(() => resolveAttrPath({ attr: 'groups' }, catalog)).toThrow(FilterError);
  });
});

describe('filterToSql: strings', () => {
  it('folds case-insensitive strings with lower() on both sides', () => {
    expect(compile('userName eq "BJensen"')).toEqual({
      sql: '(lower(r.user_name) = lower($2::text))',
      values: ['BJensen'],
    });
  });

  it('compares caseExact strings, references and ids as they are', () => {
    expect(compile('externalId eq "AbC"')).toEqual({
      sql: '(r.external_id = $2::text)',
      values: ['AbC'],
    });
    expect(compile('id eq "0b8c"').sql).toBe('((r.id::text) = $2::text)');
    expect(compile('profileUrl eq "https://X"').sql).toBe(`((r.doc #>> '{profileUrl}') = $2::text)`);
  });

  it('negates eq for ne, so resources without the attribute match', () => {
    expect(compile('userName ne "x"').sql).toBe('(NOT COALESCE(lower(r.user_name) = lower($2::text), false))');
  });

  it('builds LIKE patterns in the parameter, escaping wildcards', () => {
    expect(compile('userName co "50%_off\\\\"')).toEqual({
      sql: `(lower(r.user_name) LIKE lower($2::text) ESCAPE '\\')`,
      values: ['%50\\%\\_off\\\\%'],
    });
    expect(compile('externalId sw "ab"')).toEqual({
      sql: `(r.external_id LIKE $2::text ESCAPE '\\')`,
      values: ['ab%'],
    });
    expect(compile('title ew "Lead"')).toEqual({
      sql: `(lower(r.doc #>> '{title}') LIKE lower($2::text) ESCAPE '\\')`,
      values: ['%Lead'],
    });
  });

  it('orders strings by code point', () => {
    expect(compile('userName gt "m"').sql).toBe('(lower(r.user_name) COLLATE "C" > lower($2::text))');
    expect(compile('userName ge "m"').sql).toContain('>= lower($2::text)');
    expect(compile('userName lt "m"').sql).toContain('< lower($2::text)');
    expect(compile('externalId le "m"').sql).toBe('(r.external_id COLLATE "C" <= $2::text)');
    expect(compile('name.familyName lt "m"').sql).toBe(
      `(lower(r.doc #>> '{name,familyName}') COLLATE "C" < lower($2::text))`,
    );
  });

  it('refuses non-string values', () => {
    expect(compileError('userName eq 1').message).toBe(
      'string attribute "userName" at position 0 must be compared with a quoted string',
    );
    expect(compileError('title eq true').message).toContain('must be compared with a quoted string');
    expect(compileError('profileUrl co 2').message).toContain('string attribute "profileUrl"');
  });
});

describe('filterToSql: JSON paths and schemas', () => {
  it('reads sub-attributes of single-valued complex attributes under the parent path', () => {
    expect(compile('name.givenName sw "B"')).toEqual({
      sql: `(lower(r.doc #>> '{name,givenName}') LIKE lower($2::text) ESCAPE '\\')`,
      values: ['B%'],
    });
  });

  it('writes the catalog spelling of names whatever case the client used', () => {
    expect(compile('NAME.GIVENNAME eq "x"').sql).toContain(`'{name,givenName}'`);
    expect(compile('USERNAME eq "x"').sql).toContain('r.user_name');
  });

  it('resolves URN-qualified core and extension attributes', () => {
    expect(compile(`${CORE}:userName eq "x"`).sql).toBe('(lower(r.user_name) = lower($2::text))');
    expect(compile(`${CORE}:name.givenName eq "x"`).sql).toContain(`'{name,givenName}'`);
    expect(compile(`${ENTERPRISE}:employeeNumber eq "701984"`)).toEqual({
      sql: `(lower(r.doc #>> '{${ENTERPRISE},employeeNumber}') = lower($2::text))`,
      values: ['701984'],
    });
    expect(compile(`${ENTERPRISE.toLowerCase()}:DEPARTMENT eq "x"`).sql).toContain(`'{${ENTERPRISE},department}'`);
  });

  it('uses the value sub-attribute of a complex attribute compared without one', () => {
    expect(compile(`${ENTERPRISE}:manager eq "m-1"`)).toEqual({
      sql: `((r.doc #>> '{${ENTERPRISE},manager,value}') = $2::text)`,
      values: ['m-1'],
    });
  });

  it('refuses unknown names, naming them', () => {
    expect(compileError('fooBar eq "x"').message).toBe('unknown attribute "fooBar" at position 0');
    expect(compileError('title pr and name.middle pr').message).toBe('unknown attribute "name.middle" at position 13');
    expect(compileError('userName.first eq "x"').message).toBe('unknown attribute "userName.first" at position 0');
    expect(compileError('urn:example:nope:attr eq "x"').message).toBe('unknown schema "urn:example:nope" at position 0');
    expect(compileError('groups.value eq "x"').message).toBe('unknown attribute "groups" at position 0');
    expect(compileError('employeeNumber eq "x"').message).toBe('unknown attribute "employeeNumber" at position 0');
  });

  it('refuses comparing a complex attribute that has no value sub-attribute', () => {
    expect(compileError('name eq "x"').message).toBe(
      'attribute "name" at position 0 is complex; compare one of its sub-attributes instead',
    );
    expect(compileError('meta gt "x"').message).toContain('is complex');
  });

  it('refuses attributes the catalog gives no storage', () => {
    const catalog = userCatalog();
    const core = { ...catalog.core, attributes: { ...catalog.core.attributes, nickname: spec('nickName', 'string') } };
    expect(compileError('nickName eq "x"', { ...catalog, core }).message).toBe(
      'attribute "nickName" cannot be used in a filter',
    );
  });

  it('escapes JSON keys that are not plain names', () => {
    const odd = ['it\'s', 'a"b', 'null', 'x,y{}', 'back\\slash', 'sp ace'];
    const catalog = userCatalog();
    const oddSpec = spec('odd', 'string', { storage: json(...odd) });
    const core = { ...catalog.core, attributes: { ...catalog.core.attributes, odd: oddSpec } };
    expect(compile('odd eq "v"', { ...catalog, core }).sql).toBe(
      `(lower(r.doc #>> E'{"it''s","a\\\\"b","null","x,y{}","back\\\\\\\\slash","sp ace"}') = lower($2::text))`,
    );
  });
});

describe('filterToSql: multi-valued attributes', () => {
  const emails = elements(`'{emails}'`);
  const inEmails = `SELECT 1 FROM jsonb_array_elements(${emails}) AS e1(v) WHERE`;

  it('tests each element for a sub-attribute comparison', () => {
    expect(compile('emails.value eq "a@x"')).toEqual({
      sql: `(EXISTS (${inEmails} lower(e1.v #>> '{value}') = lower($2::text)))`,
      values: ['a@x'],
    });
  });

  it('compares the value sub-attribute when none is named', () => {
    expect(compile('emails co "@example.com"')).toEqual({
      sql: `(EXISTS (${inEmails} lower(e1.v #>> '{value}') LIKE lower($2::text) ESCAPE '\\'))`,
      values: ['%@example.com%'],
    });
  });

  it('compares the elements themselves for a plain array', () => {
    expect(compile('schemas eq "urn:x"')).toEqual({
      sql:
        `(EXISTS (SELECT 1 FROM jsonb_array_elements(${elements(`'{schemas}'`)}) AS e1(v) ` +
        `WHERE (e1.v #>> '{}') = $2::text))`,
      values: ['urn:x'],
    });
  });

  it('reads ne as "no element equals"', () => {
    expect(compile('emails.type ne "work"').sql).toBe(
      `(NOT EXISTS (${inEmails} lower(e1.v #>> '{type}') = lower($2::text)))`,
    );
  });

  it('compares booleans inside elements as JSON', () => {
    expect(compile('emails.primary eq true')).toEqual({
      sql: `(EXISTS (${inEmails} (e1.v #> '{primary}') = to_jsonb($2::boolean)))`,
      values: [true],
    });
  });

  it('checks all conditions of a value filter on the same element', () => {
    expect(compile('emails[type eq "work" and value co "@x"]')).toEqual({
      sql:
        `(EXISTS (${inEmails} ` +
        `(lower(e1.v #>> '{type}') = lower($2::text) AND ` +
        `lower(e1.v #>> '{value}') LIKE lower($3::text) ESCAPE '\\')))`,
      values: ['work', '%@x%'],
    });
  });

  it('supports not, or, pr and null inside a value filter', () => {
    expect(compile('emails[not (type eq "home") or display pr or primary eq null]').sql).toBe(
      `(EXISTS (${inEmails} (` +
        `(NOT COALESCE(lower(e1.v #>> '{type}') = lower($2::text), false)) OR ` +
        `COALESCE((e1.v #> '{display}') ${PRESENT}, false) OR ` +
        `NOT COALESCE((e1.v #> '{primary}') ${PRESENT}, false))))`,
    );
  });

  it('gives every element scan its own alias', () => {
    const { sql, values } = compile('emails[type eq "work"] and (emails.primary eq true or emails[display pr])');
    expect(sql.match(/AS e\d\(v\)/g)).toEqual(['AS e1(v)', 'AS e2(v)', 'AS e3(v)']);
    expect(values).toEqual(['work', true]);
  });

  it('resolves a URN-qualified value path', () => {
    expect(compile(`${CORE}:emails[TYPE eq "work"]`).sql).toContain(`lower(e1.v #>> '{type}')`);
  });

  it('treats a value filter on a single-valued complex attribute as its sub-attributes', () => {
    expect(compile('name[givenName eq "a" and familyName pr]').sql).toBe(
      `((lower(r.doc #>> '{name,givenName}') = lower($2::text) AND ` +
        `COALESCE((r.doc #> '{name,familyName}') ${PRESENT}, false)))`,
    );
  });

  it('refuses malformed value filters', () => {
    expect(compileError('emails[foo eq "x"]').message).toBe('unknown attribute "emails.foo" at position 7');
    expect(compileError('emails[value.x eq "x"]').message).toBe(
      '"value.x" at position 7 is not a sub-attribute of "emails"',
    );
    expect(compileError(`emails[${CORE}:type eq "x"]`).message).toContain('is not a sub-attribute of "emails"');
    expect(compileError('userName[value eq "x"]').message).toBe(
      'value path "userName" at position 0 needs a complex attribute',
    );
    expect(compileError('schemas[value eq "x"]').message).toContain('needs a complex attribute');
    const nested: FilterNode = {
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: { kind: 'valuePath', path: { attr: 'type' }, filter: { kind: 'pr', path: { attr: 'value' } } },
    };
    expect(() => filterToSql(nested, userCatalog(), new SqlParams())).toThrow('value paths may not be nested');
    const withSub: FilterNode = { kind: 'valuePath', path: { attr: 'name', sub: 'givenName' }, filter: nested.filter };
    expect(() => filterToSql(withSub, userCatalog(), new SqlParams())).toThrow('must not name a sub-attribute');
  });
});

describe('filterToSql: pr and null', () => {
  it('tests JSON values for absent, null, empty string, empty array and empty object', () => {
    expect(compile('title pr')).toEqual({ sql: `(COALESCE((r.doc #> '{title}') ${PRESENT}, false))`, values: [] });
    expect(compile('name pr').sql).toBe(`(COALESCE((r.doc #> '{name}') ${PRESENT}, false))`);
    expect(compile('emails pr').sql).toBe(`(COALESCE((r.doc #> '{emails}') ${PRESENT}, false))`);
  });

  it('tests text columns for NULL and empty strings, other columns for NULL', () => {
    expect(compile('userName pr').sql).toBe(`(COALESCE(r.user_name <> '', false))`);
    expect(compile('id pr').sql).toBe(`(COALESCE((r.id::text) <> '', false))`);
    expect(compile('active pr').sql).toBe('(r.active IS NOT NULL)');
    expect(compile('meta.created pr', userCatalog(true)).sql).toBe('(r.created_at IS NOT NULL)');
  });

  it('tests each element for a sub-attribute of a multi-valued attribute', () => {
    expect(compile('emails.value pr').sql).toBe(
      `(EXISTS (SELECT 1 FROM jsonb_array_elements(${elements(`'{emails}'`)}) AS e1(v) ` +
        `WHERE COALESCE((e1.v #> '{value}') ${PRESENT}, false)))`,
    );
  });

  it('treats a complex attribute as present when its JSON or any part kept in a column is', () => {
    expect(compile('meta pr', userCatalog(true)).sql).toBe(
      `((COALESCE((r.doc #> '{meta}') ${PRESENT}, false) OR r.created_at IS NOT NULL OR r.updated_at IS NOT NULL))`,
    );
    const catalog = userCatalog(true);
    const meta = catalog.core.attributes['meta'] as AttributeSpec;
    const { storage: _dropped, ...columnsOnly } = meta;
    const core = { ...catalog.core, attributes: { ...catalog.core.attributes, meta: columnsOnly } };
    expect(compile('meta pr', { ...catalog, core }).sql).toBe('((r.created_at IS NOT NULL OR r.updated_at IS NOT NULL))');
  });

  it('reads eq null as absent and ne null as present', () => {
    expect(compile('title eq null').sql).toBe(`(NOT COALESCE((r.doc #> '{title}') ${PRESENT}, false))`);
    expect(compile('title ne null').sql).toBe(`(COALESCE((r.doc #> '{title}') ${PRESENT}, false))`);
    expect(compile('emails eq null').sql).toBe(`(NOT COALESCE((r.doc #> '{emails}') ${PRESENT}, false))`);
    expect(compile('title eq null').values).toEqual([]);
  });

  it.each(['co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])('refuses %s null', (op) => {
    expect(compileError(`title ${op} null`).message).toBe(`operator "${op}" cannot compare with null at position 0`);
  });
});

describe('filterToSql: booleans', () => {
  it('compares boolean columns', () => {
    expect(compile('active eq true')).toEqual({ sql: '(r.active = $2::boolean)', values: [true] });
    expect(compile('active ne false')).toEqual({ sql: '(NOT COALESCE(r.active = $2::boolean, false))', values: [false] });
  });

  it('accepts booleans sent as strings, in any case', () => {
    expect(compile('active eq "True"').values).toEqual([true]);
    expect(compile('active eq "FALSE"').values).toEqual([false]);
    expect(compile('emails[primary eq "true"]').values).toEqual([true]);
  });

  it('refuses other values', () => {
    for (const value of ['"yes"', '1', '0', '""']) {
      expect(compileError(`active eq ${value}`).message).toBe(
        'boolean attribute "active" at position 0 must be compared with true or false',
      );
    }
  });

  it.each(['co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])('refuses %s', (op) => {
    expect(compileError(`active ${op} true`).message).toBe(
      `operator "${op}" does not apply to boolean attribute "active" at position 0`,
    );
  });
});

describe('filterToSql: dateTime', () => {
  it('casts JSON text to timestamptz', () => {
    expect(compile('meta.lastModified gt "2011-05-13T04:42:34Z"')).toEqual({
      sql: `((r.doc #>> '{meta,lastModified}')::timestamptz > $2::timestamptz)`,
      values: ['2011-05-13T04:42:34Z'],
    });
  });

  it('uses a sub-attribute mapped to its own column as it is', () => {
    const catalog = userCatalog(true);
    expect(compile('meta.created ge "2024-01-01"', catalog)).toEqual({
      sql: '(r.created_at >= $2::timestamptz)',
      values: ['2024-01-01'],
    });
    expect(compile('meta.lastModified lt "2024-01-01T10:00:00.123+02:00"', catalog).sql).toBe(
      '(r.updated_at < $2::timestamptz)',
    );
    expect(compile('meta.lastModified eq "2024-01-01T10:00:00Z"', catalog).sql).toBe(
      '(r.updated_at = $2::timestamptz)',
    );
    expect(compile('meta.created ne "2024-01-01T10:00:00Z"', catalog).sql).toBe(
      '(NOT COALESCE(r.created_at = $2::timestamptz, false))',
    );
    expect(compile('meta.resourceType eq "User"', catalog).sql).toBe(
      `((r.doc #>> '{meta,resourceType}') = $2::text)`,
    );
  });

  it.each(['co', 'sw', 'ew'])('refuses %s', (op) => {
    expect(compileError(`meta.created ${op} "2024"`).message).toBe(
      `operator "${op}" does not apply to dateTime attribute "meta.created" at position 0`,
    );
  });

  it.each([
    '"yesterday"',
    '"2024-02-30"',
    '"2023-02-29T00:00:00Z"',
    '"2024-13-01"',
    '"2024-01-01T24:00:00Z"',
    '"0000-01-01"',
    '"2024-01-01T10:00:00+15:00"',
    '"1"',
    '20240101',
    'true',
    '""',
  ])('refuses the value %s', (value) => {
    expect(compileError(`meta.created gt ${value}`).message).toBe(
      'dateTime attribute "meta.created" at position 0 must be compared with a quoted ISO 8601 date-time',
    );
  });

  it('accepts leap days and offsets', () => {
    for (const value of ['2024-02-29', '2024-02-29T23:59:59.999999Z', '2024-06-01T12:00:00-0530', '2024-06-01 12:00']) {
      expect(compile(`meta.created gt "${value}"`).values).toEqual([value]);
    }
  });
});

describe('filterToSql: numbers', () => {
  const clearance = `${ACME}:clearance`;
  const rating = `${ACME}:rating`;

  it.each([
    ['eq', '='],
    ['gt', '>'],
    ['ge', '>='],
    ['lt', '<'],
    ['le', '<='],
  ])('compiles %s as numeric %s', (op, sqlOp) => {
    expect(compile(`${clearance} ${op} 3`)).toEqual({
      sql: `((r.doc #>> '{${ACME},clearance}')::numeric ${sqlOp} $2::numeric)`,
      values: [3],
    });
  });

  it('negates eq for ne', () => {
    expect(compile(`${rating} ne 2.5`)).toEqual({
      sql: `(NOT COALESCE((r.doc #>> '{${ACME},rating}')::numeric = $2::numeric, false))`,
      values: [2.5],
    });
  });

  it('refuses substring operators, non-numbers and fractions for integers', () => {
    expect(compileError(`${clearance} co 3`).message).toBe(
      `operator "co" does not apply to integer attribute "${clearance}" at position 0`,
    );
    expect(compileError(`${rating} sw 3`).message).toContain('does not apply to decimal attribute');
    expect(compileError(`${clearance} eq "3"`).message).toContain('must be compared with a number');
    expect(compileError(`${clearance} eq 1.5`).message).toContain('must be compared with an integer');
    expect(compile(`${rating} gt -1.5e2`).values).toEqual([-150]);
  });
});

describe('filterToSql: logic', () => {
  it('flattens chains of one connective and parenthesises groups', () => {
    expect(compile('title pr and userName pr and active pr or id pr').sql).toBe(
      `((COALESCE((r.doc #> '{title}') ${PRESENT}, false) AND COALESCE(r.user_name <> '', false) AND ` +
        `r.active IS NOT NULL) OR COALESCE((r.id::text) <> '', false))`,
    );
    expect(compile('title pr and (userName pr or active pr)').sql).toBe(
      `(COALESCE((r.doc #> '{title}') ${PRESENT}, false) AND (COALESCE(r.user_name <> '', false) OR r.active IS NOT NULL))`,
    );
  });

  it('negates a whole group', () => {
    expect(compile('not (userName eq "a" or userName eq "b")')).toEqual({
      sql:
        '(NOT COALESCE((lower(r.user_name) = lower($2::text) OR ' +
        'lower(r.user_name) = lower($3::text)), false))',
      values: ['a', 'b'],
    });
    expect(compile('not (title ne "x")').sql).toBe(
      `(NOT COALESCE(NOT COALESCE(lower(r.doc #>> '{title}') = lower($2::text), false), false))`,
    );
  });

  it('binds values in the order they appear', () => {
    expect(compile('userName eq "a" or (title co "b" and not (externalId sw "c"))').values).toEqual(['a', '%b%', 'c%']);
  });

  it('never puts filter text into the SQL', () => {
    const evil = `"x'); DROP TABLE r; --" `;
    const { sql, values } = compile(`userName eq ${evil} or title co ${evil} or emails[value sw ${evil}]`);
    expect(sql).not.toContain('DROP');
    expect(values).toEqual(["x'); DROP TABLE r; --", "%x'); DROP TABLE r; --%", "x'); DROP TABLE r; --%"]);
  });
});

describe('sortToSql', () => {
  const catalog = userCatalog(true);
  const primaryFirst = `COALESCE((s.v #> '{primary}') = 'true'::jsonb, false) DESC, s.n`;
  const ordinal = 'WITH ORDINALITY AS s(v, n) ORDER BY';

  it('sorts case-insensitive strings by their lower-case form', () => {
    expect(sortToSql('userName', catalog)).toBe('lower(r.user_name)');
    expect(sortToSql('NAME.familyName', catalog)).toBe(`lower(r.doc #>> '{name,familyName}')`);
    expect(sortToSql(`${ENTERPRISE}:department`, catalog)).toBe(`lower(r.doc #>> '{${ENTERPRISE},department}')`);
  });

  it('sorts other types by their SQL type', () => {
    expect(sortToSql('externalId', catalog)).toBe('r.external_id');
    expect(sortToSql('id', catalog)).toBe('(r.id::text)');
    expect(sortToSql('meta.created', catalog)).toBe('r.created_at');
    expect(sortToSql('meta.lastModified', userCatalog())).toBe(`(r.doc #>> '{meta,lastModified}')::timestamptz`);
    expect(sortToSql('active', catalog)).toBe('r.active');
    expect(sortToSql(`${ACME}:rating`, catalog)).toBe(`(r.doc #>> '{${ACME},rating}')::numeric`);
    expect(sortToSql(`${ENTERPRISE}:manager.value`, catalog)).toBe(`(r.doc #>> '{${ENTERPRISE},manager,value}')`);
  });

  it('sorts multi-valued attributes by the primary element, else the first', () => {
    const emails = elements(`'{emails}'`);
    expect(sortToSql('emails', catalog)).toBe(
      `(SELECT lower(s.v #>> '{value}') FROM jsonb_array_elements(${emails}) ${ordinal} ${primaryFirst} LIMIT 1)`,
    );
    expect(sortToSql('emails.type', catalog)).toBe(
      `(SELECT lower(s.v #>> '{type}') FROM jsonb_array_elements(${emails}) ${ordinal} ${primaryFirst} LIMIT 1)`,
    );
    expect(sortToSql('schemas', catalog)).toBe(
      `(SELECT (s.v #>> '{}') FROM jsonb_array_elements(${elements(`'{schemas}'`)}) ${ordinal} s.n LIMIT 1)`,
    );
  });

  it('refuses complex attributes without a sub-attribute, unknown and malformed paths', () => {
    expect(() => sortToSql('name', catalog)).toThrow('cannot sort by complex attribute "name"; name one of its sub-attributes');
    expect(() => sortToSql(`${ENTERPRISE}:manager`, catalog)).toThrow('cannot sort by complex attribute');
    expect(() => sortToSql('fooBar', catalog)).toThrow('unknown attribute "fooBar"');
    expect(() => sortToSql('userName desc', catalog)).toThrow(FilterError);
    expect(() => sortToSql('', catalog)).toThrow(FilterError);
    expect(() => sortToSql("userName'; --", catalog)).toThrow(FilterError);
  });
});
