import { describe, expect, it } from 'vitest';
import { changedAttributes, toStoredDocument } from './resource-document.js';
import { CORE_USER, ENTERPRISE_USER } from './schemas.js';

describe('toStoredDocument', () => {
  it('drops id, meta, schemas, groups, members and password, in any case, and keeps the rest', () => {
    const doc = toStoredDocument({
      id: 'u1',
      Meta: { version: 'W/"1"' },
      schemas: [CORE_USER],
      groups: [{ value: 'g1' }],
      MEMBERS: [{ value: 'u2' }],
      password: 'hunter2',
      userName: 'ada',
      name: { givenName: 'Ada' },
      [ENTERPRISE_USER]: { department: 'R&D' },
    });
    expect(doc).toEqual({ userName: 'ada', name: { givenName: 'Ada' }, [ENTERPRISE_USER]: { department: 'R&D' } });
  });

  it('drops undefined values but keeps null and false', () => {
    expect(toStoredDocument({ userName: 'ada', title: undefined, nickName: null, active: false })).toEqual({
      userName: 'ada',
      nickName: null,
      active: false,
    });
  });

  it('does not change its input', () => {
    const input = { id: 'u1', userName: 'ada' };
    toStoredDocument(input);
    expect(input).toEqual({ id: 'u1', userName: 'ada' });
  });
});

describe('changedAttributes', () => {
  const before = {
    userName: 'ada',
    title: 'Engineer',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: 'ada@work.example', type: 'work', primary: true }],
    [ENTERPRISE_USER]: { department: 'R&D', manager: { value: 'm1' } },
  };

  it('reports nothing for equal documents', () => {
    expect(changedAttributes(before, structuredClone(before))).toEqual([]);
    expect(changedAttributes({}, {})).toEqual([]);
  });

  it('reports nothing when only key order differs, also inside arrays (jsonb reorders keys)', () => {
    const reordered = {
      [ENTERPRISE_USER]: { manager: { value: 'm1' }, department: 'R&D' },
      emails: [{ type: 'work', primary: true, value: 'ada@work.example' }],
      name: { familyName: 'Lovelace', givenName: 'Ada' },
      title: 'Engineer',
      userName: 'ada',
    };
    expect(changedAttributes(before, reordered)).toEqual([]);
  });

  it('names a changed sub-attribute of a complex attribute', () => {
    expect(changedAttributes(before, { ...before, name: { givenName: 'Augusta', familyName: 'Lovelace' } })).toEqual(['name.givenName']);
  });

  it('names a changed extension attribute with a colon, one level deep', () => {
    expect(changedAttributes(before, { ...before, [ENTERPRISE_USER]: { department: 'Ops', manager: { value: 'm1' } } })).toEqual([
      `${ENTERPRISE_USER}:department`,
    ]);
    expect(changedAttributes(before, { ...before, [ENTERPRISE_USER]: { department: 'R&D', manager: { value: 'm2' } } })).toEqual([
      `${ENTERPRISE_USER}:manager`,
    ]);
  });

  it('names a changed multi-valued attribute as a whole', () => {
    expect(changedAttributes(before, { ...before, emails: [{ value: 'ada@new.example', type: 'work', primary: true }] })).toEqual(['emails']);
    expect(changedAttributes(before, { ...before, emails: [...before.emails, { value: 'b@example.com' }] })).toEqual(['emails']);
  });

  it('names added and removed keys', () => {
    const { title: _title, ...withoutTitle } = before;
    expect(changedAttributes(before, { ...withoutTitle, nickName: 'Ada' })).toEqual(['nickName', 'title']);
    expect(changedAttributes({ userName: 'ada' }, { userName: 'ada', name: { givenName: 'Ada' } })).toEqual(['name.givenName']);
    expect(changedAttributes({ userName: 'ada', [ENTERPRISE_USER]: { department: 'R&D' } }, { userName: 'ada' })).toEqual([
      `${ENTERPRISE_USER}:department`,
    ]);
  });

  it('tells a null value from an absent one', () => {
    expect(changedAttributes({ userName: 'ada', title: null }, { userName: 'ada' })).toEqual(['title']);
  });

  it('reports several changes sorted and without duplicates', () => {
    const after = { ...before, userName: 'ada2', title: 'Lead', name: { givenName: 'A', familyName: 'L' } };
    expect(changedAttributes(before, after)).toEqual(['name.familyName', 'name.givenName', 'title', 'userName']);
  });
});
