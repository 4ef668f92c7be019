import { describe, expect, it } from 'vitest';
import { scimErrorOf as thrownScimError } from '../../test/helpers/scim-error-of.js';
import type { ScimError } from '../errors/scim-error.js';
import { parseListParams } from './list-params.js';

const LIMITS = { defaultCount: 100, maxResults: 1000 };

function scimErrorOf(source: Record<string, unknown>): ScimError {
  return thrownScimError(() => parseListParams(source, LIMITS));
}

describe('parseListParams', () => {
  it('applies defaults to an empty request', () => {
    expect(parseListParams({}, LIMITS)).toEqual({
      filter: undefined,
      sortBy: undefined,
      descending: false,
      startIndex: 1,
      count: 100,
      attributes: undefined,
      excludedAttributes: undefined,
    });
  });

  it('reads every parameter from a query string', () => {
    const params = parseListParams(
      {
        filter: 'userName eq "a"',
        sortBy: ' userName ',
        sortOrder: 'descending',
        startIndex: '11',
        count: '5',
        attributes: 'userName,emails',
        excludedAttributes: 'groups',
      },
      LIMITS,
    );
    expect(params).toEqual({
      filter: 'userName eq "a"',
      sortBy: 'userName',
      descending: true,
      startIndex: 11,
      count: 5,
      attributes: ['userName', 'emails'],
      excludedAttributes: ['groups'],
    });
  });

  it('reads numbers from a SearchRequest body', () => {
    const params = parseListParams({ startIndex: 3, count: 7 }, LIMITS);
    expect(params.startIndex).toBe(3);
    expect(params.count).toBe(7);
  });

  it('reads a startIndex below 1 as 1', () => {
    expect(parseListParams({ startIndex: '0' }, LIMITS).startIndex).toBe(1);
    expect(parseListParams({ startIndex: -5 }, LIMITS).startIndex).toBe(1);
  });

  it('reads a negative count as 0 and keeps 0', () => {
    expect(parseListParams({ count: '-3' }, LIMITS).count).toBe(0);
    expect(parseListParams({ count: 0 }, LIMITS).count).toBe(0);
  });

  it('caps count at maxResults', () => {
    expect(parseListParams({ count: '5000' }, LIMITS).count).toBe(1000);
    expect(parseListParams({ count: 1000 }, LIMITS).count).toBe(1000);
    expect(parseListParams({}, { defaultCount: 100, maxResults: 10 }).count).toBe(10);
  });

  it('matches parameter names case-insensitively', () => {
    const params = parseListParams(
      { StartIndex: '4', COUNT: '2', Filter: 'active eq true', SORTBY: 'userName', sortorder: 'Descending', Attributes: 'userName', EXCLUDEDATTRIBUTES: 'emails' },
      LIMITS,
    );
    expect(params).toMatchObject({
      startIndex: 4,
      count: 2,
      filter: 'active eq true',
      sortBy: 'userName',
      descending: true,
      attributes: ['userName'],
      excludedAttributes: ['emails'],
    });
  });

  it('ignores parameters it does not know', () => {
    expect(parseListParams({ foo: 'bar', startIndexx: 'x' }, LIMITS)).toEqual(parseListParams({}, LIMITS));
  });

  it('splits comma lists, trims names and drops empty entries', () => {
    expect(parseListParams({ attributes: ' userName , name.givenName,,' }, LIMITS).attributes).toEqual(['userName', 'name.givenName']);
  });

  it('accepts arrays for attributes, as a SearchRequest sends them or a repeated query parameter yields', () => {
    const params = parseListParams({ attributes: ['userName', ' emails '], excludedAttributes: ['groups'] }, LIMITS);
    expect(params.attributes).toEqual(['userName', 'emails']);
    expect(params.excludedAttributes).toEqual(['groups']);
  });

  it('reads an empty attribute list as none', () => {
    expect(parseListParams({ attributes: '', excludedAttributes: [] }, LIMITS)).toMatchObject({ attributes: undefined, excludedAttributes: undefined });
  });

  it('takes the first of a repeated scalar query parameter', () => {
    expect(parseListParams({ count: ['3', '9'] }, LIMITS).count).toBe(3);
  });

  it('reads a blank filter or sortBy as absent', () => {
    expect(parseListParams({ filter: '   ', sortBy: ' ' }, LIMITS)).toMatchObject({ filter: undefined, sortBy: undefined });
  });

  it.each([
    ['startIndex', 'abc'],
    ['startIndex', '1.5'],
    ['count', 'ten'],
    ['count', 2.5],
    ['count', ''],
    ['count', '0x10'],
    ['count', '1e2'],
  ])('refuses %s=%j with 400 invalidValue naming the parameter', (name, value) => {
    const err = scimErrorOf({ [name]: value });
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(name);
  });

  it('accepts sortOrder ascending or descending in any case', () => {
    expect(parseListParams({ sortOrder: 'ascending' }, LIMITS).descending).toBe(false);
    expect(parseListParams({ sortOrder: 'DESCENDING' }, LIMITS).descending).toBe(true);
  });

  it('refuses any other sortOrder with 400 invalidValue', () => {
    const err = scimErrorOf({ sortOrder: 'down' });
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain('sortOrder');
  });

  it('refuses an attribute list that is not strings', () => {
    expect(scimErrorOf({ attributes: [1, 2] }).scimType).toBe('invalidValue');
  });
});
