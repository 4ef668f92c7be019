import { beforeAll, describe, expect, it } from 'vitest';
import { coerceExtension, coerceResource, coerceToSchema, lookupTopLevel } from './coerce-input.js';
import type { ResourceCatalog } from './filter/catalog.js';
import { resourceCatalogs } from './resource-catalogs.js';
import { configureScimmy, CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS } from './schemas.js';

let catalog: ResourceCatalog;

beforeAll(() => {
  configureScimmy();
  catalog = resourceCatalogs().user;
});

describe('coerceResource', () => {
  it.each([
    ['True', true],
    ['false', false],
    [' TRUE ', true],
    ['FALSE', false],
  ])('turns the string boolean %j into %j where the schema says boolean', (text, bool) => {
    expect(coerceResource({ active: text }, catalog)).toEqual({ active: bool });
  });

  it('leaves real booleans and non-boolean strings on a boolean attribute for the schema to judge', () => {
    expect(coerceResource({ active: true }, catalog)).toEqual({ active: true });
    expect(coerceResource({ active: 'yes' }, catalog)).toEqual({ active: 'yes' });
    expect(coerceResource({ active: 'truer' }, catalog)).toEqual({ active: 'truer' });
  });

  it('leaves string booleans alone where the schema says string', () => {
    expect(coerceResource({ title: 'True', displayName: 'false', userName: 'TRUE' }, catalog)).toEqual({
      title: 'True',
      displayName: 'false',
      userName: 'TRUE',
    });
  });

  it('coerces booleans nested in multi-valued complex attributes, matching sub-attribute names case-insensitively', () => {
    const out = coerceResource(
      {
        emails: [
          { value: 'a@example.com', type: 'work', primary: 'True' },
          { value: 'b@example.com', type: 'home', Primary: 'false' },
        ],
      },
      catalog,
    );
    expect(out).toEqual({
      emails: [
        { value: 'a@example.com', type: 'work', primary: true },
        { value: 'b@example.com', type: 'home', Primary: false },
      ],
    });
  });

  it('leaves nested string sub-attributes that look like booleans alone', () => {
    expect(coerceResource({ emails: [{ value: 'True', type: 'false' }] }, catalog)).toEqual({ emails: [{ value: 'True', type: 'false' }] });
  });

  it('turns a plain-string enterprise manager into { value }', () => {
    const out = coerceResource({ [ENTERPRISE_USER]: { manager: 'mgr-1', department: 'True' } }, catalog);
    expect(out).toEqual({ [ENTERPRISE_USER]: { manager: { value: 'mgr-1' }, department: 'True' } });
  });

  it('finds the extension by URN in any case and keeps the key as sent', () => {
    const key = ENTERPRISE_USER.toLowerCase();
    expect(coerceResource({ [key]: { Manager: 'mgr-1' } }, catalog)).toEqual({ [key]: { Manager: { value: 'mgr-1' } } });
  });

  it('leaves a manager that is already an object alone', () => {
    const body = { [ENTERPRISE_USER]: { manager: { value: 'mgr-1', displayName: 'Boss' } } };
    expect(coerceResource(body, catalog)).toEqual(body);
  });

  it('does not wrap a string in a complex attribute without a value sub-attribute', () => {
    expect(coerceResource({ name: 'Ada' }, catalog)).toEqual({ name: 'Ada' });
  });

  it('leaves unknown attributes, schemas and the Lanyard extension strings alone', () => {
    const body = { schemas: [CORE_USER], nickName2: 'True', [LANYARD_ACCESS]: { sponsor: 'True', organization: 'false' } };
    expect(coerceResource(body, catalog)).toEqual(body);
  });

  it('matches top-level attribute names case-insensitively', () => {
    expect(coerceResource({ Active: 'False' }, catalog)).toEqual({ Active: false });
  });

  it('does not change its input', () => {
    const body = { active: 'True', emails: [{ primary: 'True' }] };
    coerceResource(body, catalog);
    expect(body).toEqual({ active: 'True', emails: [{ primary: 'True' }] });
  });
});

describe('coerceToSchema', () => {
  it('passes null and undefined through', () => {
    const active = catalog.core.attributes['active']!;
    expect(coerceToSchema(null, active)).toBeNull();
    expect(coerceToSchema(undefined, active)).toBeUndefined();
  });

  it('coerces one element of a multi-valued attribute when given the element', () => {
    const emails = catalog.core.attributes['emails']!;
    expect(coerceToSchema({ primary: 'true' }, { ...emails, multiValued: false })).toEqual({ primary: true });
  });
});

describe('coerceExtension and lookupTopLevel', () => {
  it('coerces an extension object and leaves a non-object alone', () => {
    const attributes = catalog.extensions.find((e) => e.urn === ENTERPRISE_USER)!.attributes;
    expect(coerceExtension({ manager: 'm' }, attributes)).toEqual({ manager: { value: 'm' } });
    expect(coerceExtension('m', attributes)).toBe('m');
  });

  it('finds core attributes and extensions', () => {
    expect(lookupTopLevel('EMAILS', catalog)).toMatchObject({ name: 'emails', multiValued: true });
    expect(lookupTopLevel(ENTERPRISE_USER, catalog)).toHaveProperty('extension');
    expect(lookupTopLevel('nope', catalog)).toBeUndefined();
  });
});
