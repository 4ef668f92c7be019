import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../../../test/helpers/scim-error-of.js';
import { CORE_GROUP } from '../schemas.js';
import { lowerKeys } from '../attribute-names.js';
import { parseExternalId, parseGroupInput, parseMembers } from './group-input.js';

describe('parseGroupInput', () => {
  it('reads displayName, externalId and members', () => {
    expect(
      parseGroupInput({ schemas: [CORE_GROUP], displayName: 'Eng', externalId: 'e-1', members: [{ value: 'u1', display: 'Ada' }] }),
    ).toEqual({ displayName: 'Eng', externalId: 'e-1', members: [{ value: 'u1', display: 'Ada' }] });
  });

  it('defaults externalId to null and members to none', () => {
    expect(parseGroupInput({ displayName: 'Eng' })).toEqual({ displayName: 'Eng', externalId: null, members: [] });
    expect(parseGroupInput({ displayName: 'Eng', externalId: null, members: null })).toEqual({ displayName: 'Eng', externalId: null, members: [] });
  });

  it('matches attribute names case-insensitively and ignores unknown ones', () => {
    expect(parseGroupInput({ DISPLAYNAME: 'Eng', ExternalId: 'e', Members: [{ Value: 'u1' }], description: 'x', id: 'ignored' })).toEqual({
      displayName: 'Eng',
      externalId: 'e',
      members: [{ value: 'u1', display: null }],
    });
  });

  it.each([
    ['null', null],
    ['an array', [{ displayName: 'Eng' }]],
    ['a string', 'Eng'],
  ])('refuses a body that is %s with 400 invalidSyntax', (_case, body) => {
    const err = scimErrorOf(() => parseGroupInput(body));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidSyntax');
  });

  it.each([
    ['missing', {}],
    ['blank', { displayName: '   ' }],
    ['not a string', { displayName: 7 }],
    ['longer than 1000 characters', { displayName: 'x'.repeat(1001) }],
  ])('refuses a displayName that is %s with 400 invalidValue', (_case, body) => {
    const err = scimErrorOf(() => parseGroupInput(body));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
  });

  it('accepts a displayName of exactly 1000 characters', () => {
    expect(parseGroupInput({ displayName: 'x'.repeat(1000) }).displayName).toHaveLength(1000);
  });

  it('refuses a non-string externalId with 400 invalidValue', () => {
    expect(scimErrorOf(() => parseGroupInput({ displayName: 'Eng', externalId: 12 })).scimType).toBe('invalidValue');
  });

  it('refuses garbage members with 400 invalidValue', () => {
    expect(scimErrorOf(() => parseGroupInput({ displayName: 'Eng', members: ['u1'] })).scimType).toBe('invalidValue');
  });
});

describe('parseMembers', () => {
  it('reads a list or a single member', () => {
    expect(parseMembers([{ value: 'u1' }, { value: 'u2', display: 'Bo', type: 'User' }], 'members')).toEqual([
      { value: 'u1', display: null },
      { value: 'u2', display: 'Bo' },
    ]);
    expect(parseMembers({ value: 'u1' }, 'members')).toEqual([{ value: 'u1', display: null }]);
  });

  it('reads displayName as display, preferring display', () => {
    expect(parseMembers([{ value: 'u1', displayName: 'Ada' }], 'members')).toEqual([{ value: 'u1', display: 'Ada' }]);
    expect(parseMembers([{ value: 'u1', display: 'Shown', displayName: 'Other' }], 'members')).toEqual([{ value: 'u1', display: 'Shown' }]);
    expect(parseMembers([{ value: 'u1', DisplayName: 'Ada' }], 'members')).toEqual([{ value: 'u1', display: 'Ada' }]);
  });

  it('matches member keys case-insensitively and accepts type "user" in any case', () => {
    expect(parseMembers([{ VALUE: 'u1', Display: 'Ada', TYPE: 'user' }], 'members')).toEqual([{ value: 'u1', display: 'Ada' }]);
  });

  it('reads a non-string display as none', () => {
    expect(parseMembers([{ value: 'u1', display: 5 }], 'members')).toEqual([{ value: 'u1', display: null }]);
  });

  it.each([
    ['a plain string', 'u1', 'm'],
    ['a string in a list', ['u1'], 'm[0]'],
    ['null in a list', [null], 'm[0]'],
    ['a nested list', [[{ value: 'u1' }]], 'm[0]'],
    ['a member without value', [{ display: 'Ada' }], 'm[0].value'],
    ['an empty value', [{ value: '' }], 'm[0].value'],
    ['a numeric value', [{ value: 42 }], 'm[0].value'],
    ['a group', [{ value: 'g1', type: 'Group' }], 'm[0].type'],
    ['a non-string type', [{ value: 'u1', type: 1 }], 'm[0].type'],
  ])('refuses %s with 400 invalidValue naming where', (_case, value, where) => {
    const err = scimErrorOf(() => parseMembers(value, 'm'));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail.startsWith(`${where}:`) || err.detail.startsWith(`${where}.`)).toBe(true);
  });

  it('names the offending element of a list', () => {
    expect(scimErrorOf(() => parseMembers([{ value: 'u1' }, { value: 'g', type: 'Group' }], 'members')).detail).toContain('members[1].type');
  });
});

describe('parseExternalId and lowerKeys', () => {
  it('reads a string or nothing', () => {
    expect(parseExternalId('e')).toBe('e');
    expect(parseExternalId(undefined)).toBeNull();
    expect(parseExternalId(null)).toBeNull();
    expect(scimErrorOf(() => parseExternalId({})).scimType).toBe('invalidValue');
  });

  it('lower-cases keys', () => {
    expect(lowerKeys({ DisplayName: 1, members: 2 })).toEqual({ displayname: 1, members: 2 });
  });
});
