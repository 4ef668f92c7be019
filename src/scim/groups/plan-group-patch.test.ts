import { describe, expect, it } from 'vitest';
import { op } from '../../../test/helpers/patch-operation.js';
import { scimErrorOf as thrownScimError } from '../../../test/helpers/scim-error-of.js';
import type { ScimError } from '../../errors/scim-error.js';
import type { PatchOperation } from '../patch-request.js';
import { CORE_GROUP } from '../schemas.js';
import { planGroupPatch } from './plan-group-patch.js';

function scimErrorOf(ops: PatchOperation[]): ScimError {
  return thrownScimError(() => planGroupPatch(ops));
}

describe('planGroupPatch without a path', () => {
  it('plans displayName, externalId and members from a value object, in its order', () => {
    expect(
      planGroupPatch([op('replace', undefined, { displayName: 'Eng', externalId: 'e-1', members: [{ value: 'u1', display: 'Ada' }] })]),
    ).toEqual([
      { kind: 'set', displayName: 'Eng' },
      { kind: 'set', externalId: 'e-1' },
      { kind: 'replace', members: [{ value: 'u1', display: 'Ada' }] },
    ]);
  });

  it('adds members from a value object with add', () => {
    expect(planGroupPatch([op('add', undefined, { members: [{ value: 'u1' }] })])).toEqual([{ kind: 'add', members: [{ value: 'u1', display: null }] }]);
  });

  it('removes the listed members from a value object with remove', () => {
    expect(planGroupPatch([op('remove', undefined, { members: [{ value: 'u1' }, { value: 'u2' }] })])).toEqual([{ kind: 'remove', values: ['u1', 'u2'] }]);
  });

  it('matches keys case-insensitively and ignores id, meta and schemas', () => {
    expect(
      planGroupPatch([op('replace', undefined, { DisplayName: 'Eng', EXTERNALID: 'e', id: 'x', meta: {}, Schemas: [CORE_GROUP] })]),
    ).toEqual([
      { kind: 'set', displayName: 'Eng' },
      { kind: 'set', externalId: 'e' },
    ]);
  });

  it('refuses a value that is not an object with 400 invalidValue', () => {
    for (const value of ['Eng', [{ displayName: 'Eng' }], null, undefined]) {
      const err = scimErrorOf([op('replace', undefined, value)]);
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('invalidValue');
    }
  });

  it('refuses an unknown attribute with 400 invalidPath', () => {
    expect(scimErrorOf([op('replace', undefined, { description: 'x' })]).scimType).toBe('invalidPath');
  });

  it('refuses removing displayName with 400 mutability', () => {
    const err = scimErrorOf([op('remove', undefined, { displayName: 'Eng' })]);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('mutability');
  });
});

describe('planGroupPatch of displayName and externalId', () => {
  it('sets displayName with add or replace, the path matched case-insensitively and URN-qualified', () => {
    expect(planGroupPatch([op('replace', 'displayName', 'Eng')])).toEqual([{ kind: 'set', displayName: 'Eng' }]);
    expect(planGroupPatch([op('add', 'DISPLAYNAME', 'Eng')])).toEqual([{ kind: 'set', displayName: 'Eng' }]);
    expect(planGroupPatch([op('replace', `${CORE_GROUP}:displayName`, 'Eng')])).toEqual([{ kind: 'set', displayName: 'Eng' }]);
  });

  it('refuses removing displayName with 400 mutability', () => {
    const err = scimErrorOf([op('remove', 'displayName')]);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('mutability');
  });

  it.each([['  '], [''], [5], [null]])('refuses displayName %j with 400 invalidValue', (value) => {
    expect(scimErrorOf([op('replace', 'displayName', value)]).scimType).toBe('invalidValue');
  });

  it('sets, clears and removes externalId', () => {
    expect(planGroupPatch([op('replace', 'externalId', 'e-1')])).toEqual([{ kind: 'set', externalId: 'e-1' }]);
    expect(planGroupPatch([op('replace', 'externalId', null)])).toEqual([{ kind: 'set', externalId: null }]);
    expect(planGroupPatch([op('remove', 'externalId')])).toEqual([{ kind: 'set', externalId: null }]);
  });

  it('refuses a non-string externalId with 400 invalidValue', () => {
    expect(scimErrorOf([op('replace', 'externalId', 42)]).scimType).toBe('invalidValue');
  });
});

describe('planGroupPatch of members', () => {
  it('adds members by path, a single object or a list', () => {
    expect(planGroupPatch([op('add', 'members', [{ value: 'u1' }, { value: 'u2', display: 'Bo' }])])).toEqual([
      { kind: 'add', members: [{ value: 'u1', display: null }, { value: 'u2', display: 'Bo' }] },
    ]);
    expect(planGroupPatch([op('add', 'Members', { value: 'u1' })])).toEqual([{ kind: 'add', members: [{ value: 'u1', display: null }] }]);
  });

  it('replaces members, a null value emptying the group', () => {
    expect(planGroupPatch([op('replace', 'members', [{ value: 'u1' }])])).toEqual([{ kind: 'replace', members: [{ value: 'u1', display: null }] }]);
    expect(planGroupPatch([op('replace', 'members', null)])).toEqual([{ kind: 'replace', members: [] }]);
    expect(planGroupPatch([op('replace', 'members', [])])).toEqual([{ kind: 'replace', members: [] }]);
  });

  it('removes the members listed in the value', () => {
    expect(planGroupPatch([op('remove', 'members', [{ value: 'u1' }, { value: 'u2' }])])).toEqual([{ kind: 'remove', values: ['u1', 'u2'] }]);
  });

  it('removes every member when remove names no value', () => {
    expect(planGroupPatch([op('remove', 'members')])).toEqual([{ kind: 'removeAll' }]);
    expect(planGroupPatch([op('remove', 'members', null)])).toEqual([{ kind: 'removeAll' }]);
  });

  it('removes one member by value filter', () => {
    expect(planGroupPatch([op('remove', 'members[value eq "u1"]')])).toEqual([{ kind: 'remove', values: ['u1'] }]);
  });

  it('removes several members by an or-filter, in any case', () => {
    expect(planGroupPatch([op('remove', 'members[value eq "a" or value eq "b"]')])).toEqual([{ kind: 'remove', values: ['a', 'b'] }]);
    expect(planGroupPatch([op('remove', 'members[Value EQ "a" OR value eq "b"]')])).toEqual([{ kind: 'remove', values: ['a', 'b'] }]);
  });

  it('refuses a member filter with add or replace with 400 invalidPath', () => {
    expect(scimErrorOf([op('add', 'members[value eq "u1"]', [{ value: 'u1' }])]).scimType).toBe('invalidPath');
    expect(scimErrorOf([op('replace', 'members[value eq "u1"]', [{ value: 'u1' }])]).scimType).toBe('invalidPath');
  });

  it('refuses a member filter on anything but value with 400 invalidFilter', () => {
    expect(scimErrorOf([op('remove', 'members[display eq "Ada"]')]).scimType).toBe('invalidFilter');
    expect(scimErrorOf([op('remove', 'members[value eq "a" and value eq "b"]')]).scimType).toBe('invalidFilter');
  });

  it.each([
    ['a plain string', 'u1'],
    ['a list of strings', ['u1']],
    ['a member without value', [{ display: 'Ada' }]],
    ['an empty value', [{ value: '' }]],
    ['a group member', [{ value: 'g1', type: 'Group' }]],
  ])('refuses %s with 400 invalidValue', (_case, value) => {
    const err = scimErrorOf([op('add', 'members', value)]);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
  });

  it('refuses garbage member values on remove too', () => {
    expect(scimErrorOf([op('remove', 'members', 'u1')]).scimType).toBe('invalidValue');
  });
});

describe('planGroupPatch refuses unsupported paths', () => {
  it.each(['members.value', 'members[value eq "u1"].display', 'displayName[value eq "x"]', 'name.givenName', 'description', 'emails'])(
    '%j with 400 invalidPath',
    (path) => {
      const err = scimErrorOf([op('replace', path, 'x')]);
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('invalidPath');
    },
  );

  it('names the failing operation', () => {
    expect(scimErrorOf([op('replace', 'displayName', 'ok'), op('replace', 'description', 'x')]).detail).toContain('Operations[1]');
  });
});

describe('planGroupPatch keeps request order across operations', () => {
  it('returns one step per operation, in order', () => {
    expect(
      planGroupPatch([op('remove', 'members'), op('add', 'members', [{ value: 'u1' }]), op('replace', 'displayName', 'Eng')]).map((s) => s.kind),
    ).toEqual(['removeAll', 'add', 'set']);
  });
});
