import { beforeAll, describe, expect, it } from 'vitest';
import { op } from '../../../test/helpers/patch-operation.js';
import { scimErrorOf } from '../../../test/helpers/scim-error-of.js';
import type { ResourceCatalog } from '../filter/catalog.js';
import type { PatchOperation } from '../patch-request.js';
import { resourceCatalogs } from '../resource-catalogs.js';
import { configureScimmy, CORE_USER, ENTERPRISE_USER } from '../schemas.js';
import { normaliseUserPatch } from './normalise-user-patch.js';

let catalog: ResourceCatalog;

beforeAll(() => {
  configureScimmy();
  catalog = resourceCatalogs().user;
});

const HOME_ONLY = { userName: 'ada', emails: [{ value: 'ada@home.example', type: 'home' }] };
const WITH_WORK = { userName: 'ada', emails: [{ value: 'ada@work.example', type: 'Work' }] };

function normalise(ops: PatchOperation[], current: Record<string, unknown> = HOME_ONLY): PatchOperation[] {
  return normaliseUserPatch(ops, current, catalog);
}

describe('Entra work e-mail rewrite', () => {
  it('turns emails[type eq "work"].value into an add of a work e-mail when the user has none', () => {
    expect(normalise([op('replace', 'emails[type eq "work"].value', 'ada@work.example')])).toEqual([
      { op: 'add', path: 'emails', value: [{ type: 'work', value: 'ada@work.example' }] },
    ]);
  });

  it('rewrites when the user has no e-mails at all', () => {
    expect(normalise([op('add', 'emails[type eq "work"].value', 'a@w.example')], { userName: 'ada' })[0]).toEqual({
      op: 'add',
      path: 'emails',
      value: [{ type: 'work', value: 'a@w.example' }],
    });
  });

  it('leaves the operation alone when an element of that type exists, comparing types case-insensitively', () => {
    const operation = op('replace', 'emails[type eq "work"].value', 'new@work.example');
    expect(normalise([operation], WITH_WORK)).toEqual([operation]);
  });

  it('never rewrites a remove', () => {
    const operation = op('remove', 'emails[type eq "work"].value', 'ada@work.example');
    expect(normalise([operation])).toEqual([operation]);
  });

  it('does not rewrite a filter without a sub-attribute', () => {
    const operation = op('replace', 'emails[type eq "work"]', { value: 'a@w.example' });
    expect(normalise([operation])).toEqual([operation]);
  });

  it('coerces the value of a rewritten boolean sub-attribute', () => {
    expect(normalise([op('replace', 'emails[type eq "work"].primary', 'True')])).toEqual([
      { op: 'add', path: 'emails', value: [{ type: 'work', primary: true }] },
    ]);
  });
});

describe('coercion by path', () => {
  it('coerces a string boolean on a boolean attribute', () => {
    expect(normalise([op('replace', 'active', 'False')])[0]!.value).toBe(false);
    expect(normalise([op('replace', `${CORE_USER}:active`, ' TRUE ')])[0]!.value).toBe(true);
  });

  it('coerces a string boolean on a boolean sub-attribute reached through a filter', () => {
    expect(normalise([op('replace', 'emails[type eq "home"].primary', 'true')])[0]).toEqual(
      op('replace', 'emails[type eq "home"].primary', true),
    );
  });

  it('coerces booleans inside a value for a filtered element or a whole multi-valued attribute', () => {
    expect(normalise([op('replace', 'emails[type eq "home"]', { primary: 'True' })])[0]!.value).toEqual({ primary: true });
    expect(normalise([op('add', 'emails', [{ value: 'x@example.com', primary: 'false' }])])[0]!.value).toEqual([
      { value: 'x@example.com', primary: false },
    ]);
  });

  it('leaves string attributes alone', () => {
    expect(normalise([op('replace', 'title', 'True')])[0]!.value).toBe('True');
    expect(normalise([op('replace', 'name.givenName', 'false')])[0]!.value).toBe('false');
  });

  it('turns a plain-string manager into { value }', () => {
    expect(normalise([op('replace', `${ENTERPRISE_USER}:manager`, 'mgr-1')])[0]).toEqual(op('replace', `${ENTERPRISE_USER}:manager`, { value: 'mgr-1' }));
  });

  it('passes unknown attributes and value-less operations through unchanged', () => {
    const unknown = op('replace', 'nickName2', 'True');
    const remove = op('remove', 'active');
    expect(normalise([unknown, remove])).toEqual([unknown, remove]);
  });
});

describe('coercion in path-less values', () => {
  it('coerces plain, dotted and URN-qualified keys, keeping the keys as sent', () => {
    const [out] = normalise([
      op('replace', undefined, {
        active: 'False',
        title: 'True',
        'name.givenName': 'true',
        [`${ENTERPRISE_USER}:manager`]: 'mgr-1',
        [`${ENTERPRISE_USER}:department`]: 'True',
        [ENTERPRISE_USER]: { manager: 'mgr-2' },
        emails: [{ value: 'a@example.com', primary: 'TRUE' }],
      }),
    ]);
    expect(out!.value).toEqual({
      active: false,
      title: 'True',
      'name.givenName': 'true',
      [`${ENTERPRISE_USER}:manager`]: { value: 'mgr-1' },
      [`${ENTERPRISE_USER}:department`]: 'True',
      [ENTERPRISE_USER]: { manager: { value: 'mgr-2' } },
      emails: [{ value: 'a@example.com', primary: true }],
    });
  });

  it('coerces a dotted key by its sub-attribute type', () => {
    const [out] = normalise([op('replace', undefined, { 'emails.primary': 'True', 'EMAILS.value': 'True', [`${ENTERPRISE_USER}:manager.value`]: 'True' })]);
    expect(out!.value).toEqual({ 'emails.primary': true, 'EMAILS.value': 'True', [`${ENTERPRISE_USER}:manager.value`]: 'True' });
  });

  it('refuses a path-less value that is not an object with 400 invalidValue', () => {
    for (const value of ['x', ['a'], null]) {
      const err = scimErrorOf(() => normalise([op('replace', undefined, value)]));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('invalidValue');
    }
  });
});

describe('read-only targets', () => {
  it.each(['id', 'meta.created', 'meta', 'groups', 'schemas', 'Groups', `${CORE_USER}:id`, 'groups[value eq "g1"]'])(
    'refuses path %j with 400 mutability',
    (path) => {
      const err = scimErrorOf(() => normalise([op('replace', 'title', 'x'), op('replace', path, 'x')]));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('mutability');
      expect(err.detail).toContain('Operations[1]');
    },
  );

  it('refuses a remove of a read-only target', () => {
    expect(scimErrorOf(() => normalise([op('remove', 'groups')])).scimType).toBe('mutability');
  });

  it.each([{ id: 'x' }, { meta: { created: '2020-01-01T00:00:00Z' } }, { 'meta.created': '2020-01-01T00:00:00Z' }, { groups: [] }, { Schemas: [] }])(
    'refuses path-less value %j with 400 mutability',
    (value) => {
      const err = scimErrorOf(() => normalise([op('replace', undefined, { title: 'x', ...value })]));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('mutability');
    },
  );

  it('allows extension attributes whatever they are called', () => {
    expect(() => normalise([op('replace', undefined, { [ENTERPRISE_USER]: { department: 'x' } })])).not.toThrow();
  });
});
