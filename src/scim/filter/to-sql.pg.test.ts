/**
 * Runs compiled filters against a real PostgreSQL, because the unit tests can only show the SQL text: whether
 * NULL handling, LIKE escaping, JSONB paths and casts behave is decided by the database.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME, CORE, ENTERPRISE, json, spec, userCatalog } from '../../../test/helpers/sample-user-catalog.js';
import type { ResourceCatalog } from './catalog.js';
import { FilterError } from './filter-error.js';
import { parseFilter } from './parse.js';
import { SqlParams } from './sql-params.js';
import { filterToSql, sortToSql } from './to-sql.js';

/** JSON keys that need quoting in a `text[]` literal, to prove the escaped form reaches the right value. */
const ODD_PATH = ["it's", 'a"b', 'null', 'x,y{}', 'back\\slash'];

function testCatalog(): ResourceCatalog {
  const catalog = userCatalog(true);
  const odd = spec('odd', 'string', { storage: json(...ODD_PATH) });
  return { ...catalog, core: { ...catalog.core, attributes: { ...catalog.core.attributes, odd } } };
}

function nested(path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) throw new Error('empty path');
  return { [head]: rest.length === 0 ? value : nested(rest, value) };
}

interface Row {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean | null;
  created: string | null;
  updated: string | null;
  doc: Record<string, unknown>;
}

const BJENSEN_ID = '2819c223-7f76-453a-919d-413861904646';

const ROWS: Row[] = [
  {
    id: BJENSEN_ID,
    userName: 'BJensen',
    externalId: 'EXT-1',
    active: true,
    created: '2024-01-10T09:30:00Z',
    updated: '2024-03-01T00:00:00Z',
    doc: {
      schemas: [CORE, ENTERPRISE],
      name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III' },
      displayName: 'Babs Jensen',
      title: 'Tour Guide',
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      meta: { resourceType: 'User' },
      [ENTERPRISE]: {
        employeeNumber: '701984',
        department: 'Tour Operations',
        manager: { value: 'mgr-1', displayName: 'John Smith' },
      },
      [ACME]: { clearance: 3, rating: 4.5 },
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    userName: 'jsmith',
    externalId: 'ext-1',
    active: false,
    created: '2024-02-15T00:00:00Z',
    updated: null,
    doc: {
      name: { givenName: 'John', familyName: 'Smith' },
      title: 'Manager',
      emails: [{ value: 'JSmith@Example.com', type: 'Work' }],
      [ENTERPRISE]: { employeeNumber: '100', department: 'Tour Operations' },
      [ACME]: { clearance: 5, rating: 2 },
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    userName: 'alice',
    externalId: null,
    active: true,
    created: '2023-06-01T00:00:00Z',
    updated: null,
    doc: {
      name: { givenName: 'Alice' },
      title: '',
      displayName: null,
      emails: [],
      [ENTERPRISE]: { department: 'Sales 50% off' },
      [ACME]: { clearance: 1 },
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000004',
    userName: 'BOB',
    externalId: 'X_1',
    active: null,
    created: null,
    updated: null,
    doc: {},
  },
  {
    id: '00000000-0000-4000-8000-000000000005',
    userName: 'carol',
    externalId: 'X-1',
    active: true,
    created: '2024-05-05T12:00:00Z',
    updated: '2024-05-06T12:00:00Z',
    doc: {
      title: 'Engineer',
      emails: [
        { value: 'carol@work.example', type: 'work', primary: false },
        { value: 'carol@home.example', type: 'home', primary: true },
      ],
      [ENTERPRISE]: { department: 'R&D', manager: { value: 'mgr-2' } },
      [ACME]: { rating: 3.75 },
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000006',
    userName: 'dave',
    externalId: 'EXT-6',
    active: false,
    created: '2022-12-31T23:00:00Z',
    updated: null,
    doc: {
      // Not an array: scans must skip it rather than fail the query.
      emails: 'dave@example.com',
      name: { familyName: 'Smith' },
      title: 'Senior Engineer',
      displayName: 'Dave 50',
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000007',
    userName: 'Émile',
    externalId: 'EXT-7',
    active: true,
    created: '2024-01-10T09:30:00Z',
    updated: null,
    doc: {
      name: { givenName: 'Émile' },
      displayName: 'Émile Zola',
      title: 'O\'Brien "quoted"',
      emails: [{ value: 'emile@example.com', type: 'work', primary: true }],
      ...nested(ODD_PATH, 'yes'),
    },
  },
  {
    id: '00000000-0000-4000-8000-000000000008',
    userName: 'zed_user',
    externalId: 'EXT-8',
    active: true,
    created: '2024-01-01T00:00:00Z',
    updated: null,
    doc: {
      displayName: '100%',
      title: 'Tour Guide',
      emails: [{ value: 'zed@example.com' }],
    },
  },
];

const ALL = ROWS.map((row) => row.userName);
const except = (...names: string[]): string[] => ALL.filter((name) => !names.includes(name));

const client = new pg.Client({
  host: process.env['PGHOST'] ?? '127.0.0.1',
  port: Number(process.env['PGPORT'] ?? 5432),
  user: process.env['PGUSER'] ?? 'postgres',
  database: process.env['PGDATABASE'] ?? 'postgres',
});
const catalog = testCatalog();

beforeAll(async () => {
  await client.connect();
  await client.query(
    'CREATE TEMP TABLE r (id uuid, user_name text, external_id text, active boolean, ' +
      'created_at timestamptz, updated_at timestamptz, doc jsonb)',
  );
  for (const row of ROWS) {
    await client.query('INSERT INTO r VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      row.id,
      row.userName,
      row.externalId,
      row.active,
      row.created,
      row.updated,
      JSON.stringify(row.doc),
    ]);
  }
});

afterAll(async () => {
  await client.end();
});

/** The user names matching `filter`, behind a condition the caller bound first, in code-point order. */
async function matching(filter: string): Promise<string[]> {
  const params = new SqlParams(['tenant-a']);
  const where = filterToSql(parseFilter(filter), catalog, params);
  const { rows } = await client.query<{ user_name: string }>(
    `SELECT r.user_name FROM r AS r WHERE $1::text = 'tenant-a' AND ${where} ORDER BY r.user_name COLLATE "C"`,
    params.values,
  );
  return rows.map((row) => row.user_name);
}

const CASES: [string, string[]][] = [
  // Strings: case-insensitive userName, caseExact externalId.
  ['userName eq "bjensen"', ['BJensen']],
  ['userName eq "bob"', ['BOB']],
  ['externalId eq "EXT-1"', ['BJensen']],
  ['externalId ne "EXT-1"', except('BJensen')],
  ['userName ne "ALICE"', except('alice')],
  ['title ew "guide"', ['BJensen', 'zed_user']],
  ['title sw "SENIOR"', ['dave']],
  ['title eq "O\'Brien \\"quoted\\""', ['Émile']],
  ['name.givenName eq "Émile"', ['Émile']],
  // LIKE wildcards in values are literal.
  ['userName co "_"', ['zed_user']],
  ['externalId sw "X_"', ['BOB']],
  [`${ENTERPRISE}:department co "50%"`, ['alice']],
  ['displayName co "50%"', []],
  ['displayName co "50"', ['dave']],
  ['displayName ew "%"', ['zed_user']],
  // Code-point ordering of lower-cased strings.
  ['userName gt "c"', ['Émile', 'carol', 'dave', 'jsmith', 'zed_user']],
  ['userName ge "carol"', ['Émile', 'carol', 'dave', 'jsmith', 'zed_user']],
  ['userName lt "b"', ['alice']],
  ['userName le "bob"', ['BJensen', 'BOB', 'alice']],
  ['externalId lt "EXT-2"', ['BJensen']],
  // Booleans, including Entra's quoted form; ne and not also match NULL.
  ['active eq true', ['BJensen', 'alice', 'carol', 'zed_user', 'Émile']],
  ['active eq "False"', ['dave', 'jsmith']],
  ['active eq "True"', ['BJensen', 'alice', 'carol', 'zed_user', 'Émile']],
  ['active ne true', ['BOB', 'dave', 'jsmith']],
  ['not (active eq true)', ['BOB', 'dave', 'jsmith']],
  ['active pr', except('BOB')],
  // Dates, from a column and with offsets.
  ['meta.created gt "2024-01-01T00:00:00Z"', ['BJensen', 'carol', 'jsmith', 'Émile']],
  ['meta.created ge "2024-01-01T00:00:00Z"', ['BJensen', 'carol', 'jsmith', 'zed_user', 'Émile']],
  ['meta.created lt "2024-01-01"', ['alice', 'dave']],
  ['meta.created eq "2024-01-10T10:30:00+01:00"', ['BJensen', 'Émile']],
  ['meta.created ne "2024-01-10T09:30:00Z"', except('BJensen', 'Émile')],
  ['meta.lastModified pr', ['BJensen', 'carol']],
  ['meta.resourceType eq "User"', ['BJensen']],
  ['meta pr', except('BOB')],
  // Multi-valued attributes.
  ['emails co "example.com"', ['BJensen', 'jsmith', 'zed_user', 'Émile']],
  ['emails.value eq "jsmith@example.com"', ['jsmith']],
  ['emails[type eq "work" and value co "example.com"]', ['BJensen', 'jsmith', 'Émile']],
  ['emails[type eq "home" and value co "bjensen"]', []],
  ['emails.type eq "home" and emails.value co "bjensen"', ['BJensen']],
  ['emails[primary eq true]', ['BJensen', 'carol', 'Émile']],
  ['emails[primary eq "TRUE" and type eq "home"]', ['carol']],
  ['emails[not (type eq "work")]', ['BJensen', 'carol', 'zed_user']],
  ['emails.type ne "work"', ['BOB', 'alice', 'dave', 'zed_user']],
  ['emails[type pr] and not (emails[type eq "home"])', ['jsmith', 'Émile']],
  // A string where an array belongs is still a present value.
  ['emails pr', except('BOB', 'alice')],
  ['not (emails pr)', ['BOB', 'alice']],
  ['emails eq null', ['BOB', 'alice']],
  [`schemas eq "${ENTERPRISE}"`, ['BJensen']],
  // Complex and extension attributes.
  ['name.familyName eq "smith"', ['dave', 'jsmith']],
  ['name[givenName sw "J" and familyName eq "smith"]', ['jsmith']],
  ['name pr', ['BJensen', 'alice', 'dave', 'jsmith', 'Émile']],
  ['name.givenName pr', ['BJensen', 'alice', 'jsmith', 'Émile']],
  [`${ENTERPRISE}:employeeNumber eq "701984"`, ['BJensen']],
  [`${ENTERPRISE.toUpperCase()}:DEPARTMENT eq "tour operations"`, ['BJensen', 'jsmith']],
  [`${ENTERPRISE}:manager eq "mgr-1"`, ['BJensen']],
  [`${ENTERPRISE}:manager.value pr`, ['BJensen', 'carol']],
  // Numbers.
  [`${ACME}:clearance ge 3`, ['BJensen', 'jsmith']],
  [`${ACME}:clearance ne 3`, except('BJensen')],
  [`${ACME}:rating lt 3`, ['jsmith']],
  [`${ACME}:rating gt 3.5`, ['BJensen', 'carol']],
  [`${ACME}:rating le 2.0`, ['jsmith']],
  // Null, presence and empties.
  ['title eq null', ['BOB', 'alice']],
  ['not (title eq null)', except('BOB', 'alice')],
  ['title pr', except('BOB', 'alice')],
  ['displayName ne null', ['BJensen', 'dave', 'zed_user', 'Émile']],
  ['externalId pr', except('alice')],
  // Logic and precedence.
  ['active eq false and userName eq "jsmith" or userName eq "alice"', ['alice', 'jsmith']],
  ['userName eq "alice" or active eq false and userName eq "jsmith"', ['alice', 'jsmith']],
  ['(userName eq "alice" or userName eq "bob") and active pr', ['alice']],
  ['not (userName eq "alice" or userName eq "bob")', except('alice', 'BOB')],
  ['title sw "tour" and not (active eq false)', ['BJensen', 'zed_user']],
  [`id eq "${BJENSEN_ID}"`, ['BJensen']],
  ['id eq "2819C223-7F76-453A-919D-413861904646"', []],
  ['odd eq "YES"', ['Émile']],
];

describe('filterToSql against PostgreSQL', () => {
  it.each(CASES)('%s', async (filter, expected) => {
    expect(await matching(filter)).toEqual([...expected].sort());
  });

  it('treats attribute names and operators case-insensitively', async () => {
    expect(await matching('USERNAME EQ "BJENSEN" AND Emails[TYPE Eq "WORK"]')).toEqual(['BJensen']);
  });

  it('rejects filters before they reach the database', () => {
    expect(() => filterToSql(parseFilter('groups.value eq "x"'), catalog, new SqlParams())).toThrow(FilterError);
  });
});

describe('sortToSql against PostgreSQL', () => {
  async function sorted(path: string, filter: string): Promise<string[]> {
    const params = new SqlParams();
    const where = filterToSql(parseFilter(filter), catalog, params);
    const { rows } = await client.query<{ user_name: string }>(
      `SELECT r.user_name FROM r AS r WHERE ${where} ORDER BY ${sortToSql(path, catalog)} NULLS LAST, r.user_name COLLATE "C"`,
      params.values,
    );
    return rows.map((row) => row.user_name);
  }

  it('sorts strings case-insensitively', async () => {
    expect(await sorted('userName', 'userName lt "d"')).toEqual(['alice', 'BJensen', 'BOB', 'carol']);
  });

  it('sorts by the primary email, else the first', async () => {
    // carol's primary is her second, home address.
    expect(await sorted('emails', 'emails pr and not (userName eq "dave")')).toEqual([
      'BJensen',
      'carol',
      'Émile',
      'jsmith',
      'zed_user',
    ]);
    expect(await sorted('emails.type', 'emails[type pr]')).toEqual(['carol', 'BJensen', 'jsmith', 'Émile']);
  });

  it('sorts dates and numbers by value', async () => {
    expect(await sorted('meta.created', 'externalId pr')).toEqual([
      'dave',
      'zed_user',
      'BJensen',
      'Émile',
      'jsmith',
      'carol',
      'BOB',
    ]);
    expect(await sorted(`${ACME}:rating`, `${ACME}:rating pr`)).toEqual(['jsmith', 'carol', 'BJensen']);
  });
});
