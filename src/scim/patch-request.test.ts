import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../../test/helpers/scim-error-of.js';
import { parsePatchRequest, splitPatchPath } from './patch-request.js';
import { CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS, PATCH_OP } from './schemas.js';

const EXTENSIONS = [ENTERPRISE_USER, LANYARD_ACCESS];

function patch(...operations: unknown[]): unknown {
  return { schemas: [PATCH_OP], Operations: operations };
}

describe('parsePatchRequest', () => {
  it('reads a valid PatchOp', () => {
    const ops = parsePatchRequest(
      patch(
        { op: 'replace', path: 'displayName', value: 'Ada' },
        { op: 'add', value: { title: 'Engineer' } },
        { op: 'remove', path: ' emails[type eq "home"] ' },
      ),
    );
    expect(ops).toEqual([
      { op: 'replace', path: 'displayName', value: 'Ada' },
      { op: 'add', path: undefined, value: { title: 'Engineer' } },
      { op: 'remove', path: 'emails[type eq "home"]', value: undefined },
    ]);
  });

  it.each([
    ['no body', undefined],
    ['an array', [patch({ op: 'add', value: {} })]],
    ['no schemas', { Operations: [{ op: 'add', value: {} }] }],
    ['schemas not an array', { schemas: PATCH_OP, Operations: [{ op: 'add', value: {} }] }],
    ['the wrong schema', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], Operations: [{ op: 'add', value: {} }] }],
  ])('refuses %s with 400 invalidSyntax', (_case, body) => {
    const err = scimErrorOf(() => parsePatchRequest(body));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidSyntax');
  });

  it.each([
    ['empty', []],
    ['missing', undefined],
    ['not an array', { op: 'add', value: {} }],
  ])('refuses %s Operations with 400 invalidSyntax', (_case, operations) => {
    const err = scimErrorOf(() => parsePatchRequest({ schemas: [PATCH_OP], Operations: operations }));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidSyntax');
  });

  it('refuses an unknown op with 400 invalidSyntax naming the operation', () => {
    const err = scimErrorOf(() => parsePatchRequest(patch({ op: 'replace', path: 'title', value: 'x' }, { op: 'move', path: 'title' })));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidSyntax');
    expect(err.detail).toContain('Operations[1]');
  });

  it('refuses an operation that is not an object or has no string op', () => {
    expect(scimErrorOf(() => parsePatchRequest(patch('add'))).scimType).toBe('invalidSyntax');
    expect(scimErrorOf(() => parsePatchRequest(patch(null))).scimType).toBe('invalidSyntax');
    expect(scimErrorOf(() => parsePatchRequest(patch({ path: 'title', value: 'x' }))).scimType).toBe('invalidSyntax');
    expect(scimErrorOf(() => parsePatchRequest(patch({ op: 'add', path: 5, value: 'x' }))).scimType).toBe('invalidSyntax');
  });

  it('accepts op names in any case, as Entra sends "Replace"', () => {
    const ops = parsePatchRequest(patch({ op: 'Replace', path: 'title', value: 'x' }, { op: 'ADD', value: {} }, { op: 'Remove', path: 'title' }));
    expect(ops.map((o) => o.op)).toEqual(['replace', 'add', 'remove']);
  });

  it('matches the message and operation member names case-insensitively', () => {
    const ops = parsePatchRequest({ Schemas: [PATCH_OP], operations: [{ OP: 'replace', Path: 'title', Value: 'x' }] });
    expect(ops).toEqual([{ op: 'replace', path: 'title', value: 'x' }]);
  });

  it.each(['add', 'replace'])('refuses %s without a value with 400 invalidValue', (op) => {
    const err = scimErrorOf(() => parsePatchRequest(patch({ op, path: 'title' })));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
  });

  it('accepts null as a value', () => {
    expect(parsePatchRequest(patch({ op: 'replace', path: 'title', value: null }))[0]!.value).toBeNull();
  });

  it('refuses remove with neither path nor value with 400 noTarget, a blank path counting as none', () => {
    for (const operation of [{ op: 'remove' }, { op: 'remove', path: '  ' }]) {
      const err = scimErrorOf(() => parsePatchRequest(patch(operation)));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('noTarget');
    }
  });

  it('accepts remove with a value and no path', () => {
    expect(parsePatchRequest(patch({ op: 'remove', value: { members: [{ value: 'u1' }] } }))).toHaveLength(1);
  });

  it('accepts 1000 operations and refuses 1001 with 400 tooMany', () => {
    const op = { op: 'add', path: 'members', value: [{ value: 'u1' }] };
    expect(parsePatchRequest(patch(...Array.from({ length: 1000 }, () => op)))).toHaveLength(1000);
    const err = scimErrorOf(() => parsePatchRequest(patch(...Array.from({ length: 1001 }, () => op))));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('tooMany');
  });
});

describe('splitPatchPath', () => {
  const split = (path: string) => splitPatchPath(path, CORE_USER, EXTENSIONS);

  it('splits a plain attribute', () => {
    expect(split('userName')).toEqual({ urn: undefined, attr: 'userName', filter: undefined, sub: undefined });
  });

  it('splits a sub-attribute', () => {
    expect(split('name.givenName')).toEqual({ urn: undefined, attr: 'name', filter: undefined, sub: 'givenName' });
  });

  it('splits a value filter and a sub-attribute', () => {
    expect(split('emails[type eq "work"].value')).toEqual({ urn: undefined, attr: 'emails', filter: 'type eq "work"', sub: 'value' });
    expect(split('emails[value eq "a.b@example.com"]')).toEqual({ urn: undefined, attr: 'emails', filter: 'value eq "a.b@example.com"', sub: undefined });
  });

  it('splits an extension path and returns the canonical URN', () => {
    expect(split(`${ENTERPRISE_USER}:manager`)).toEqual({ urn: ENTERPRISE_USER, attr: 'manager', filter: undefined, sub: undefined });
    expect(split(`${ENTERPRISE_USER.toLowerCase()}:manager.value`)).toEqual({ urn: ENTERPRISE_USER, attr: 'manager', filter: undefined, sub: 'value' });
  });

  it('strips the core URN, whose "2.0" is not a sub-attribute separator', () => {
    expect(split(`${CORE_USER}:name.givenName`)).toEqual({ urn: undefined, attr: 'name', filter: undefined, sub: 'givenName' });
    expect(split(`${CORE_USER.toUpperCase()}:userName`)).toEqual({ urn: undefined, attr: 'userName', filter: undefined, sub: undefined });
  });

  it.each(['', '.value', 'name.', 'a.b.c', 'emails[type eq "work"', 'emails]', 'emails[type eq "work"]x', `${ENTERPRISE_USER}:`])(
    'refuses %j with 400 invalidPath',
    (path) => {
      const err = scimErrorOf(() => split(path));
      expect(err.status).toBe(400);
      expect(err.scimType).toBe('invalidPath');
    },
  );
});
