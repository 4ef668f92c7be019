import { describe, expect, it } from 'vitest';
import type { Operator } from '../operators/operator.js';
import { ADMIN_ACTIONS, type AdminAction, can } from './permissions.js';

const operator = (role: Operator['role'], tenants: Operator['tenants']): Operator => ({ id: 'k1', name: 'someone', via: 'api-key', role, tenants });

const mspAdmin = operator('msp-admin', 'all');
const auditor = operator('auditor', 'all');
const acmeAdmin = operator('tenant-admin', ['acme', 'globex']);

describe('can', () => {
  it('lets an msp-admin do everything, on any tenant or none', () => {
    for (const action of ADMIN_ACTIONS) {
      expect(can(mspAdmin, action, 'acme')).toBe(true);
      expect(can(mspAdmin, action, 'initech')).toBe(true);
      expect(can(mspAdmin, action)).toBe(true);
    }
  });

  const tenantAdminMay: AdminAction[] = ['tenant.read', 'connector.write', 'policy.write', 'approval.decide', 'audit.read', 'evidence.read', 'user.read', 'jobs.retry'];

  it.each(tenantAdminMay)('lets a tenant-admin %s on each of its tenants', (action) => {
    expect(can(acmeAdmin, action, 'acme')).toBe(true);
    expect(can(acmeAdmin, action, 'globex')).toBe(true);
  });

  it.each(ADMIN_ACTIONS)('never lets a tenant-admin %s on another tenant, nor across tenants', (action) => {
    expect(can(acmeAdmin, action, 'initech')).toBe(false);
    expect(can(acmeAdmin, action)).toBe(false);
  });

  it('keeps the tenant itself (create, suspend, offboard, contract) with the MSP', () => {
    expect(can(acmeAdmin, 'tenant.write', 'acme')).toBe(false);
  });

  it('matches tenant slugs exactly', () => {
    expect(can(acmeAdmin, 'tenant.read', 'acme-2')).toBe(false);
    expect(can(acmeAdmin, 'tenant.read', 'ACME')).toBe(false);
    expect(can(acmeAdmin, 'tenant.read', '')).toBe(false);
  });

  it('fails closed for a tenant-admin said to have every tenant', () => {
    expect(can(operator('tenant-admin', 'all'), 'tenant.read', 'acme')).toBe(false);
  });

  it('lets an auditor read the audit trail, evidence and tenants of every tenant, and nothing else', () => {
    const allowed = new Set<AdminAction>(['audit.read', 'evidence.read', 'tenant.read']);
    for (const action of ADMIN_ACTIONS) {
      expect(can(auditor, action, 'acme')).toBe(allowed.has(action));
      expect(can(auditor, action)).toBe(allowed.has(action));
    }
    expect(can(auditor, 'user.read', 'acme')).toBe(false);
  });

  it('does not depend on how the operator signed in', () => {
    for (const action of ADMIN_ACTIONS) {
      expect(can({ ...acmeAdmin, via: 'oidc' }, action, 'acme')).toBe(can(acmeAdmin, action, 'acme'));
    }
  });
});
