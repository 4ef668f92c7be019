import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startStaffTenant } from './helpers/provisioning-tenant.js';
import { startTestService, type TestService, type TestTenant } from './helpers/test-service.js';

/** `lanyard status` through the real CLI, against tenants provisioned by the real pipeline. */
let svc: TestService;
let busy: TestTenant;
let idle: TestTenant;

const cli = (args: string[]) => runCli(args, svc.cliEnv());

beforeAll(async () => {
  svc = await startTestService({}, { workers: true });
  busy = await svc.tenant();
  idle = await svc.tenant();
  const { scim } = await startStaffTenant(svc, busy, 'pat@partner.example');
  const left = await scim.createUser('lee@partner.example');
  await scim.setActive(left, false);
  await svc.runtime.tokens.issue(busy.slug, { ttlMs: 3 * 24 * 3600_000 }, 'operator:test');
  await svc.runtime.tenants.setContractEnd(busy.slug, new Date('2027-06-30T00:00:00Z'), 'operator:test');
  // A hold the brake would have left, and a push 42 minutes ago, as the database would have them.
  await svc.sql("INSERT INTO deprovision_holds (tenant_id, user_id, user_name, state, reason) VALUES ($1, $2, 'lee@partner.example', 'pending', 'deactivated')", [busy.id, left]);
  await svc.sql("UPDATE scim_tokens SET last_used_at = now() - interval '42 minutes 10 seconds' WHERE id = $1", [busy.tokenId]);
});

afterAll(async () => {
  await svc?.close();
});

describe('lanyard status', () => {
  it("prints one tenant's state for an operator: last push, users, grants, approvals, holds, failed jobs, expiring tokens, contract end", async () => {
    const out = await cli(['status', busy.slug]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${busy.slug}  (active)`);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}Last push: +\d{4}-\d\d-\d\dT[\d:.]+Z \(42 minutes ago\)$/));
    expect(lines).toContain('  Users:         2 (1 active)');
    expect(lines).toContain('  Grants:        active 1, failed 1');
    expect(lines).toContain('  Approvals:     1 pending');
    expect(lines).toContain(`  Holds:         1 pending (lanyard holds list ${busy.slug} --pending)`);
    expect(lines).toContain(`  Failed jobs:   1 (lanyard jobs failed ${busy.slug})`);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}Tokens: +2 in force, next expiry \d{4}-/));
    expect(lines).toContain(`  ! 1 token(s) expire within 14 days: issue a new one (lanyard token issue ${busy.slug}) and move the IdP to it`);
    expect(lines).toContain('  Contract end:  2027-06-30T00:00:00.000Z');
    // Nothing of the other tenant.
    expect(out.stdout).not.toContain(idle.slug);
  });

  it('counts failed jobs as `lanyard jobs failed` lists them', async () => {
    const [failed, status] = await Promise.all([cli(['jobs', 'failed', busy.slug, '--json']), cli(['status', busy.slug, '--json'])]);
    expect(JSON.parse(failed.stdout)).toHaveLength(1);
    expect((JSON.parse(status.stdout) as { tenants: { failedJobs: number }[] }).tenants[0]!.failedJobs).toBe(1);
  });

  it('prints every tenant as stable JSON, a tenant never reached with no last push and nothing flagged', async () => {
    const out = await cli(['status', '--json']);
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as { at: string; tenants: Record<string, unknown>[] };
    expect(Date.parse(report.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(report.tenants.map((t) => t['slug'])).toEqual([busy.slug, idle.slug].sort());
    expect(report.tenants.find((t) => t['slug'] === idle.slug)).toEqual({
      slug: idle.slug,
      status: 'active',
      lastPush: null,
      users: { total: 0, active: 0 },
      grants: { requested: 0, awaiting_approval: 0, provisioning: 0, active: 0, revoking: 0, revoked: 0, failed: 0, held: 0 },
      pendingApprovals: 0,
      pendingHolds: 0,
      failedJobs: 0,
      tokens: { active: 1, expiringSoon: 0, expiringWithinDays: 14, nextExpiry: expect.stringMatching(/^\d{4}-/), flagged: false },
      contractEndsAt: null,
    });
    const b = report.tenants.find((t) => t['slug'] === busy.slug)!;
    expect(b).toMatchObject({
      status: 'active',
      lastPush: { at: expect.stringMatching(/Z$/), minutesAgo: 42 },
      users: { total: 2, active: 1 },
      grants: { active: 1, failed: 1, provisioning: 0, revoked: 0 },
      pendingApprovals: 1,
      pendingHolds: 1,
      failedJobs: 1,
      tokens: { active: 2, expiringSoon: 1, flagged: true },
      contractEndsAt: '2027-06-30T00:00:00.000Z',
    });
    const next = Date.parse((b['tokens'] as { nextExpiry: string }).nextExpiry);
    expect(next).toBeGreaterThan(Date.now() + 2 * 24 * 3600_000);
    expect(next).toBeLessThan(Date.now() + 4 * 24 * 3600_000);
  });

  it('answers "never" for a tenant whose identity provider never reached it, and not found (exit 3) for an unknown tenant', async () => {
    const out = await cli(['status', idle.slug]);
    expect(out.stdout).toContain('  Last push:     never');
    expect(out.stdout).toContain('  Grants:        none');
    expect(out.stdout).not.toContain('!');
    const missing = await cli(['status', 'no-such-tenant', '--json']);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'not_found', message: 'no tenant "no-such-tenant"' } });
  });
});
