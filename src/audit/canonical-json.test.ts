import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys, so key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('sorts by code unit, not locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, _: 4 })).toBe('{"B":2,"_":4,"a":3,"b":1}');
  });

  it('sorts nested objects at every level, also inside arrays', () => {
    expect(canonicalJson({ z: { y: 1, x: { d: 1, c: 2 } }, a: [{ q: 1, p: 2 }] })).toBe('{"a":[{"p":2,"q":1}],"z":{"x":{"c":2,"d":1},"y":1}}');
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ list: ['b', 'a'] })).not.toBe(canonicalJson({ list: ['a', 'b'] }));
  });

  it('drops undefined members as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ a: { b: undefined } })).toBe('{"a":{}}');
  });

  it('writes undefined in an array as null, as JSON does', () => {
    expect(canonicalJson([1, undefined])).toBe('[1,null]');
  });

  it('writes scalars and null as JSON, without white space', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson({ a: [1, { b: null }] })).toBe('{"a":[1,{"b":null}]}');
  });

  it('parses back to the same value', () => {
    const value = { tenantId: 't', attributes: ['name.givenName'], detail: { n: 2, ok: false, s: null } };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  it('escapes keys', () => {
    expect(canonicalJson({ 'a"b': 1 })).toBe('{"a\\"b":1}');
  });
});
