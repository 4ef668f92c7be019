import { expect } from 'vitest';
import { CORE_GROUP, CORE_USER, LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
import { createDownstreamPostgres, type DownstreamPostgres } from './downstream-postgres.js';
import { eventually } from './eventually.js';
import { startTestService, type TestService, type TestTenant } from './test-service.js';

/**
 * The policy the pipeline and lifecycle tests start from: one package, `analyst`, granting `role` through
 * the `warehouse` connector to members of "Partner Analysts". `intake` requires the partner intake
 * attributes (INTAKE carries them); `extra` is appended as further top-level sections (brake, sponsorship…).
 */
export function analystPolicy(role: string, opts: { maxDuration?: string; intake?: boolean; extra?: string } = {}): string {
  return `version: 1
${opts.intake ? 'intake:\n  required: [organization, sponsor, accessEndDate]\n' : ''}packages:
  analyst:
    entitlements:
      warehouse: [role:${role}]
    maxDuration: ${opts.maxDuration ?? 'P90D'}
rules:
  - when: { group: Partner Analysts }
    grant: [analyst]
${opts.extra ?? ''}`;
}

export const INTAKE = { organization: 'Globex', sponsor: 'ada@acme.example', accessEndDate: '2099-01-01T00:00:00Z' };

/** SCIM calls the way an IdP makes them, against one tenant of a test service. */
export function idp(svc: TestService, t: TestTenant) {
  return {
    async createUser(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
      const res = await svc.http.post(`${t.path}/Users`).set(t.auth).send({ schemas: [CORE_USER, LANYARD_ACCESS], userName, active: true, [LANYARD_ACCESS]: INTAKE, ...extra });
      expect(res.status).toBe(201);
      return res.body.id as string;
    },
    async createGroup(displayName: string, members: string[] = []): Promise<string> {
      const res = await svc.http.post(`${t.path}/Groups`).set(t.auth).send({ schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })) });
      expect(res.status).toBe(201);
      return res.body.id as string;
    },
    async members(groupId: string, op: 'add' | 'remove', userIds: string[]): Promise<void> {
      const Operations =
        op === 'add' ? [{ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }] : userIds.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` }));
      const res = await svc.http.patch(`${t.path}/Groups/${groupId}`).set(t.auth).send({ schemas: [PATCH_OP], Operations });
      expect(res.status).toBeLessThan(300);
    },
    async setActive(userId: string, active: boolean): Promise<void> {
      const res = await svc.http.patch(`${t.path}/Users/${userId}`).set(t.auth).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });
      expect(res.status).toBeLessThan(300);
    },
    async deleteUser(userId: string): Promise<void> {
      expect((await svc.http.delete(`${t.path}/Users/${userId}`).set(t.auth)).status).toBe(204);
    },
  };
}

/** The grants of a tenant as stored, for assertions. */
export async function grantsOf(svc: TestService, t: TestTenant, userId?: string) {
  return svc.sql<{ id: string; user_id: string; connector: string; entitlement: string; state: string; revoke_reason: string | null; starts_at: Date | null; last_error: string | null }>(
    `SELECT id, user_id, connector, entitlement, state, revoke_reason, starts_at, last_error FROM grants
      WHERE tenant_id = $1 ${userId ? 'AND user_id = $2' : ''} ORDER BY created_at`,
    userId ? [t.id, userId] : [t.id],
  );
}

export async function auditActions(svc: TestService, t: TestTenant, resourceId: string): Promise<string[]> {
  const rows = await svc.sql<{ action: string }>('SELECT action FROM audit_events WHERE tenant_id = $1 AND resource_id = $2 ORDER BY seq', [t.id, resourceId]);
  return rows.map((r) => r.action);
}

export interface WarehouseTenant {
  svc: TestService;
  t: TestTenant;
  downstream: DownstreamPostgres;
  scim: ReturnType<typeof idp>;
  close(): Promise<void>;
}

/**
 * The setup of the pipeline tests: a service with its workers (sweeping every second), a real PostgreSQL
 * downstream with the given group roles, and one tenant with that downstream as its `warehouse` connector
 * and the policy `policyFor` writes for the roles' real names.
 */
export async function startWarehouseTenant(roleNames: string[], policyFor: (roles: Record<string, string>) => string): Promise<WarehouseTenant> {
  const downstream = await createDownstreamPostgres(roleNames);
  const svc = await startTestService({ SWEEP_INTERVAL: '1s', SWEEP_GRACE: '1s' }, { workers: true });
  const t = await svc.tenant();
  await svc.runtime.connectors.add(t.slug, { name: 'warehouse', kind: 'postgres', config: downstream.config }, 'operator:test');
  await svc.runtime.policies.apply(t.slug, policyFor(downstream.roles), 'operator:test');
  return {
    svc,
    t,
    downstream,
    scim: idp(svc, t),
    async close() {
      await svc.close();
      await downstream.drop();
    },
  };
}

/**
 * The policy of the status and metrics tests: `reader` provisions through the memory connector `mem`,
 * `broken` names an entitlement its downstream does not know (parked as failed), and `special` waits for
 * an approval.
 */
const STAFF_POLICY = `version: 1
packages:
  reader:
    entitlements:
      mem: [role:read]
    maxDuration: P30D
  broken:
    entitlements:
      other: [role:missing]
    maxDuration: P30D
  special:
    entitlements:
      mem: [role:special]
    maxDuration: P30D
    approval: required
approvals:
  approvers: [tenant]
  tenantApprovers: [lead@globex.example]
rules:
  - when: { group: Staff }
    grant: [reader, broken, special]
`;

/**
 * A tenant in every state a status report shows: two memory connectors (the failing entitlement on one of
 * its own, so its failure parks only its own work), STAFF_POLICY, and `userName` in group Staff, waited for
 * until one grant is active, one failed and one approval request pending. Needs the workers running.
 */
export async function startStaffTenant(svc: TestService, t: TestTenant, userName: string): Promise<{ userId: string; scim: ReturnType<typeof idp> }> {
  const memory = (namespace: string, entitlements: string[]) => ({ kind: 'memory', config: { namespace: `${namespace}-${t.slug}`, entitlements, latencyMs: 0 } });
  await svc.runtime.connectors.add(t.slug, { name: 'mem', ...memory('staff', ['role:read', 'role:special']) }, 'operator:test');
  await svc.runtime.connectors.add(t.slug, { name: 'other', ...memory('staff-other', ['role:write']) }, 'operator:test');
  await svc.runtime.policies.apply(t.slug, STAFF_POLICY, 'operator:test');
  const scim = idp(svc, t);
  const userId = await scim.createUser(userName);
  await scim.createGroup('Staff', [userId]);
  await eventually(async () => {
    expect((await grantsOf(svc, t, userId)).map((g) => `${g.entitlement}:${g.state}`).sort()).toEqual(['role:missing:failed', 'role:read:active']);
    expect(await svc.sql("SELECT 1 FROM approval_requests WHERE tenant_id = $1 AND state = 'pending'", [t.id])).toHaveLength(1);
  });
  return { userId, scim };
}
