import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../../test/helpers/scim-error-of.js';
import { checkIfMatch, etagOf } from './etag.js';

describe('etagOf', () => {
  it('is a weak tag of the version', () => {
    expect(etagOf(3)).toBe('W/"3"');
    expect(etagOf(12)).toBe('W/"12"');
  });
});

describe('checkIfMatch', () => {
  it('passes when the header is absent or *', () => {
    expect(() => checkIfMatch(undefined, 3)).not.toThrow();
    expect(() => checkIfMatch('*', 3)).not.toThrow();
    expect(() => checkIfMatch(' * ', 3)).not.toThrow();
  });

  it('passes for the current version, weak or strong', () => {
    expect(() => checkIfMatch('W/"3"', 3)).not.toThrow();
    expect(() => checkIfMatch('w/"3"', 3)).not.toThrow();
    expect(() => checkIfMatch('"3"', 3)).not.toThrow();
    expect(() => checkIfMatch(etagOf(3), 3)).not.toThrow();
  });

  it('passes when any tag of a list names the current version', () => {
    expect(() => checkIfMatch('W/"1", W/"3"', 3)).not.toThrow();
    expect(() => checkIfMatch('"2","3"', 3)).not.toThrow();
  });

  it.each(['W/"2"', '"2"', 'W/"1", "2"', 'W/"33"', 'W/"3 "', ''])('answers 412 for %j when the version is 3', (header) => {
    const err = scimErrorOf(() => checkIfMatch(header, 3));
    expect(err.status).toBe(412);
    expect(err.detail).toContain('W/"3"');
  });
});
