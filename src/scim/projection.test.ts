import { describe, expect, it } from 'vitest';
import { type Projection, Projector, parseProjectionPath } from './projection.js';
import { CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS } from './schemas.js';

const EXTENSIONS = [ENTERPRISE_USER, LANYARD_ACCESS];

function user(): Record<string, unknown> {
  return {
    schemas: [CORE_USER, ENTERPRISE_USER],
    id: 'u1',
    externalId: 'ext-1',
    userName: 'ada@example.com',
    name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
    emails: [
      { value: 'ada@work.example', type: 'work', primary: true },
      { value: 'ada@home.example', type: 'home' },
    ],
    active: true,
    groups: [{ value: 'g1', display: 'Engineers' }],
    [ENTERPRISE_USER]: { department: 'R&D', costCenter: 'CC-1', manager: { value: 'm1', displayName: 'Charles' } },
    meta: { resourceType: 'User', version: 'W/"1"' },
  };
}

function project(projection: Projection): Record<string, unknown> {
  return new Projector(projection, CORE_USER, EXTENSIONS).apply(user());
}

describe('parseProjectionPath', () => {
  it('lower-cases a plain name and splits a sub-attribute', () => {
    expect(parseProjectionPath('userName', CORE_USER, EXTENSIONS)).toEqual({ top: 'username', rest: undefined });
    expect(parseProjectionPath('name.givenName', CORE_USER, EXTENSIONS)).toEqual({ top: 'name', rest: 'givenname' });
  });

  it('strips the core schema URN, whose own "2.0" is not a sub-attribute separator', () => {
    expect(parseProjectionPath(`${CORE_USER}:userName`, CORE_USER, EXTENSIONS)).toEqual({ top: 'username', rest: undefined });
    expect(parseProjectionPath(`${CORE_USER}:name.givenName`, CORE_USER, EXTENSIONS)).toEqual({ top: 'name', rest: 'givenname' });
  });

  it('keeps an extension URN as the top-level key', () => {
    expect(parseProjectionPath(ENTERPRISE_USER, CORE_USER, EXTENSIONS)).toEqual({ top: ENTERPRISE_USER.toLowerCase(), rest: undefined });
    expect(parseProjectionPath(`${ENTERPRISE_USER}:manager.value`, CORE_USER, EXTENSIONS)).toEqual({
      top: ENTERPRISE_USER.toLowerCase(),
      rest: 'manager.value',
    });
  });

  it('drops a value filter', () => {
    expect(parseProjectionPath('emails[type eq "work"]', CORE_USER, EXTENSIONS)).toEqual({ top: 'emails', rest: undefined });
    expect(parseProjectionPath('emails[type eq "work"].value', CORE_USER, EXTENSIONS)).toEqual({ top: 'emails', rest: 'value' });
  });
});

describe('Projector.apply with attributes', () => {
  it('returns only the named attributes plus id and schemas', () => {
    expect(project({ attributes: ['userName'] })).toEqual({ schemas: [CORE_USER, ENTERPRISE_USER], id: 'u1', userName: 'ada@example.com' });
  });

  it('matches names case-insensitively', () => {
    expect(project({ attributes: ['USERNAME', 'Active'] })).toEqual({
      schemas: [CORE_USER, ENTERPRISE_USER],
      id: 'u1',
      userName: 'ada@example.com',
      active: true,
    });
  });

  it('keeps only the named sub-attribute of a complex attribute', () => {
    expect(project({ attributes: ['name.givenName'] })['name']).toEqual({ givenName: 'Ada' });
  });

  it('merges several sub-attributes of one attribute', () => {
    expect(project({ attributes: ['name.givenName', 'name.familyName'] })['name']).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
  });

  it('keeps the whole attribute when it is named along with one of its sub-attributes', () => {
    expect(project({ attributes: ['name.givenName', 'name'] })['name']).toEqual(user()['name']);
  });

  it('reads a core-URN-qualified name', () => {
    const out = project({ attributes: [`${CORE_USER}:userName`] });
    expect(out).toEqual({ schemas: [CORE_USER, ENTERPRISE_USER], id: 'u1', userName: 'ada@example.com' });
  });

  it('keeps one attribute of an extension', () => {
    const out = project({ attributes: [`${ENTERPRISE_USER}:department`] });
    expect(out).toEqual({ schemas: [CORE_USER, ENTERPRISE_USER], id: 'u1', [ENTERPRISE_USER]: { department: 'R&D' } });
  });

  it('keeps a sub-attribute of an extension attribute', () => {
    expect(project({ attributes: [`${ENTERPRISE_USER}:manager.value`] })[ENTERPRISE_USER]).toEqual({ manager: { value: 'm1' } });
  });

  it('keeps a whole extension named by its URN, in any case', () => {
    expect(project({ attributes: [ENTERPRISE_USER.toUpperCase()] })[ENTERPRISE_USER]).toEqual(user()[ENTERPRISE_USER]);
  });

  it('keeps a sub-attribute of every element of a multi-valued attribute', () => {
    expect(project({ attributes: ['emails.value'] })['emails']).toEqual([{ value: 'ada@work.example' }, { value: 'ada@home.example' }]);
    expect(project({ attributes: ['emails.value', 'emails.type'] })['emails']).toEqual([
      { value: 'ada@work.example', type: 'work' },
      { value: 'ada@home.example', type: 'home' },
    ]);
  });

  it('reads a name with a value filter as the whole attribute', () => {
    const out = project({ attributes: ['emails[type eq "work"]'] });
    expect(out['emails']).toEqual(user()['emails']);
    expect(out).not.toHaveProperty('userName');
  });

  it('always returns id and schemas', () => {
    const out = project({ attributes: ['name.givenName'] });
    expect(out['id']).toBe('u1');
    expect(out['schemas']).toEqual([CORE_USER, ENTERPRISE_USER]);
    expect(Object.keys(out).sort()).toEqual(['id', 'name', 'schemas']);
  });

  it('returns everything when neither list is given', () => {
    expect(project({})).toEqual(user());
  });
});

describe('Projector.apply with excludedAttributes', () => {
  it('drops the named attributes and keeps the rest', () => {
    const out = project({ excludedAttributes: ['emails', 'GROUPS'] });
    const expected = user();
    delete expected['emails'];
    delete expected['groups'];
    expect(out).toEqual(expected);
  });

  it('drops only the named sub-attribute', () => {
    expect(project({ excludedAttributes: ['name.formatted'] })['name']).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
  });

  it('drops a sub-attribute from every element of a multi-valued attribute', () => {
    expect(project({ excludedAttributes: ['emails.primary'] })['emails']).toEqual([
      { value: 'ada@work.example', type: 'work' },
      { value: 'ada@home.example', type: 'home' },
    ]);
  });

  it('drops one attribute of an extension, and a whole extension by URN', () => {
    expect(project({ excludedAttributes: [`${ENTERPRISE_USER}:department`] })[ENTERPRISE_USER]).toEqual({
      costCenter: 'CC-1',
      manager: { value: 'm1', displayName: 'Charles' },
    });
    expect(project({ excludedAttributes: [ENTERPRISE_USER] })).not.toHaveProperty(ENTERPRISE_USER);
  });

  it('drops a core-URN-qualified name and a filtered name', () => {
    const out = project({ excludedAttributes: [`${CORE_USER}:userName`, 'emails[type eq "work"]'] });
    expect(out).not.toHaveProperty('userName');
    expect(out).not.toHaveProperty('emails');
    expect(out).toHaveProperty('name');
  });

  it('never drops id or schemas', () => {
    const out = project({ excludedAttributes: ['id', 'schemas', `${CORE_USER}:id`] });
    expect(out['id']).toBe('u1');
    expect(out['schemas']).toEqual([CORE_USER, ENTERPRISE_USER]);
  });
});

describe('Projector.wants', () => {
  it('wants everything when nothing is asked', () => {
    const p = new Projector({}, CORE_USER, EXTENSIONS);
    expect(p.wants('groups')).toBe(true);
    expect(p.wants('emails')).toBe(true);
  });

  it('with attributes, wants only the top-level attributes named, also through a sub-attribute or a URN', () => {
    const p = new Projector({ attributes: ['userName', 'groups.display', `${ENTERPRISE_USER}:department`] }, CORE_USER, EXTENSIONS);
    expect(p.wants('groups')).toBe(true);
    expect(p.wants('Groups')).toBe(true);
    expect(p.wants('userName')).toBe(true);
    expect(p.wants(ENTERPRISE_USER)).toBe(true);
    expect(p.wants('emails')).toBe(false);
    expect(new Projector({ attributes: ['userName'] }, CORE_USER, EXTENSIONS).wants('groups')).toBe(false);
    expect(new Projector({ attributes: [`${CORE_USER}:groups`] }, CORE_USER, EXTENSIONS).wants('groups')).toBe(true);
  });

  it('with excludedAttributes, does not want a wholly excluded attribute but still wants a partly excluded one', () => {
    expect(new Projector({ excludedAttributes: ['groups'] }, CORE_USER, EXTENSIONS).wants('groups')).toBe(false);
    expect(new Projector({ excludedAttributes: ['groups.display'] }, CORE_USER, EXTENSIONS).wants('groups')).toBe(true);
    expect(new Projector({ excludedAttributes: ['emails'] }, CORE_USER, EXTENSIONS).wants('groups')).toBe(true);
  });
});
