import { expect } from 'vitest';
import { CORE_GROUP, CORE_USER, LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
import { createDownstreamPostgres, type DownstreamPostgres } from './downstream-postgres.js';
import { startTestService, type TestService, type TestTenant } from './test-service.js';

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
