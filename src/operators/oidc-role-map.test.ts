import { describe, expect, it } from 'vitest';
import { parseRoleMap, resolveRole, type RoleMap } from './oidc-role-map.js';

function parsed(text: string): RoleMap {
  const result = parseRoleMap(text);
  if (!result.ok) throw new Error(result.problem);
  return result.map;
}

describe('parseRoleMap', () => {
  it('reads the documented example', () => {
    const map = parsed('lanyard-msp-admins=msp-admin,acme-admins=tenant-admin:acme,auditors=auditor');
    expect([...map]).toEqual([
      ['lanyard-msp-admins', { role: 'msp-admin', tenants: [] }],
      ['acme-admins', { role: 'tenant-admin', tenants: ['acme'] }],
      ['auditors', { role: 'auditor', tenants: [] }],
    ]);
  });

  it('takes several tenants, spaces around parts, and claim values with spaces', () => {
    const map = parsed(' Partner Admins = tenant-admin : globex + acme + acme ,  0d5c-42=auditor ');
    expect(map.get('Partner Admins')).toEqual({ role: 'tenant-admin', tenants: ['acme', 'globex'] });
    expect(map.get('0d5c-42')).toEqual({ role: 'auditor', tenants: [] });
  });

  it.each([
    ['', 'entry 1 (""): empty entry'],
    ['a=msp-admin,', 'entry 2 (""): empty entry'],
    ['admins', 'expected <claim value>=<role>'],
    ['a=b=msp-admin', 'expected <claim value>=<role>'],
    ['=msp-admin', 'the claim value is empty'],
    ['a=root', 'unknown role "root"'],
    ['a=msp-admin,a=auditor', '"a" is mapped twice'],
    ['a=tenant-admin', 'tenant-admin needs its tenants'],
    ['a=tenant-admin:', 'tenant-admin needs its tenants'],
    ['a=tenant-admin:Acme', '"Acme" is not a tenant slug'],
    ['a=tenant-admin:acme+', '"" is not a tenant slug'],
    ['a=tenant-admin:acme:x', 'at most one ":"'],
    ['a=auditor:acme', 'auditor spans every tenant'],
  ])('refuses %j, naming the entry', (text, problem) => {
    const result = parseRoleMap(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });
});

describe('resolveRole', () => {
  const map = parsed('msp=msp-admin,acme=tenant-admin:acme,both=tenant-admin:acme+globex,audit=auditor');

  it('maps one value', () => {
    expect(resolveRole(map, ['audit'])).toEqual({ role: 'auditor', tenants: [] });
    expect(resolveRole(map, ['acme'])).toEqual({ role: 'tenant-admin', tenants: ['acme'] });
  });

  it('is null when no value is mapped', () => {
    expect(resolveRole(map, [])).toBeNull();
    expect(resolveRole(map, ['everyone', 'MSP'])).toBeNull();
  });

  it('takes the strongest role, combining the tenants of tenant-admin values', () => {
    expect(resolveRole(map, ['audit', 'msp', 'acme'])).toEqual({ role: 'msp-admin', tenants: [] });
    expect(resolveRole(map, ['audit', 'acme'])).toEqual({ role: 'tenant-admin', tenants: ['acme'] });
    expect(resolveRole(map, ['acme', 'both'])).toEqual({ role: 'tenant-admin', tenants: ['acme', 'globex'] });
  });
});
