import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANYARD_ACCESS, PATCH_OP } from '../../src/scim/schemas.js';
import { createDownstreamPostgres, type DownstreamPostgres } from '../helpers/downstream-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { analystPolicy, auditActions, grantsOf, idp, INTAKE } from '../helpers/provisioning-tenant.js';
import { startTestService, type TestService, type TestTenant } from '../helpers/test-service.js';

/**
 * The sponsor cascade through the real pipeline: a partner user's access depends on their sponsor being
 * an active user of the same tenant, with or without a grace period for re-sponsorship.
 */
let svc: TestService;
let downstream: DownstreamPostgres;

const POLICY = (role: string, grace?: string) => analystPolicy(role, { intake: true, extra: `sponsorship:${grace ? ` { grace: ${grace} }` : ' {}'}\n` });

async function tenantWith(grace?: string) {
  const t = await svc.tenant();
  const scim = idp(svc, t);
  await svc.runtime.connectors.add(t.slug, { name: 'warehouse', kind: 'postgres', config: downstream.config }, 'operator:test');
  await svc.runtime.policies.apply(t.slug, POLICY(downstream.roles['analyst']!, grace), 'operator:test');
  const sponsor = await scim.createUser(INTAKE.sponsor, { [LANYARD_ACCESS]: { ...INTAKE, sponsor: 'someone.else@acme.example' } });
  const group = await scim.createGroup('Partner Analysts');
  return { t, scim, sponsor, group };
}

async function partner(ctx: Awaited<ReturnType<typeof tenantWith>>, userName: string, sponsor = INTAKE.sponsor): Promise<string> {
  const id = await ctx.scim.createUser(userName, { [LANYARD_ACCESS]: { ...INTAKE, sponsor } });
  await ctx.scim.members(ctx.group, 'add', [id]);
  await eventually(async () => expect((await grantsOf(svc, ctx.t, id)).map((g) => g.state)).toEqual(['active']));
  return id;
}

const states = async (t: TestTenant, id: string) => (await grantsOf(svc, t, id)).map((g) => [g.state, g.revoke_reason]);
const setSponsor = (t: TestTenant, id: string, sponsor: string | null) =>
  svc.http
    .patch(`${t.path}/Users/${id}`)
    .set(t.auth)
    .send({ schemas: [PATCH_OP], Operations: [sponsor === null ? { op: 'remove', path: `${LANYARD_ACCESS}:sponsor` } : { op: 'replace', path: `${LANYARD_ACCESS}:sponsor`, value: sponsor }] })
    .expect(204);

beforeAll(async () => {
  downstream = await createDownstreamPostgres(['analyst']);
  svc = await startTestService({ SWEEP_INTERVAL: '1s', SWEEP_GRACE: '1s' }, { workers: true });
});
afterAll(async () => {
  await svc?.close();
  await downstream?.drop();
});

describe('sponsor cascade without grace', () => {
  it('revokes the sponsored users’ access when the sponsor is deactivated, and grants it again when the sponsor is back', async () => {
    const ctx = await tenantWith();
    const id = await partner(ctx, 'sp.one@partner.example');
    await ctx.scim.setActive(ctx.sponsor, false);
    await eventually(async () => expect(await states(ctx.t, id)).toEqual([['revoked', 'sponsor_removed']]));
    expect(await auditActions(svc, ctx.t, id)).toContain('user.sponsor_lapsed');
    await ctx.scim.setActive(ctx.sponsor, true);
    await eventually(async () => expect(await states(ctx.t, id)).toEqual([['revoked', 'sponsor_removed'], ['active', null]]));
  });

  it('revokes when the sponsor is deleted, or the sponsor attribute is cleared', async () => {
    const ctx = await tenantWith();
    const cleared = await partner(ctx, 'sp.two@partner.example');
    await setSponsor(ctx.t, cleared, null);
    await eventually(async () => expect(await states(ctx.t, cleared)).toEqual([['revoked', 'sponsor_removed']]));
    const orphan = await partner(ctx, 'sp.three@partner.example');
    await ctx.scim.deleteUser(ctx.sponsor);
    await eventually(async () => expect(await states(ctx.t, orphan)).toEqual([['revoked', 'sponsor_removed']]));
  });
});

describe('sponsor cascade with a grace period', () => {
  it('keeps access through the grace, revokes it once the grace is over, via the lifecycle schedule', async () => {
    const ctx = await tenantWith('P7D');
    const id = await partner(ctx, 'sp.four@partner.example');
    await ctx.scim.setActive(ctx.sponsor, false);
    await eventually(async () => {
      const [row] = await svc.sql<{ lapsed_since: Date | null; revoke_at: Date | null }>('SELECT lapsed_since, revoke_at FROM sponsorships WHERE user_id = $1', [id]);
      expect(row!.lapsed_since).not.toBeNull();
      expect(row!.revoke_at!.getTime() - row!.lapsed_since!.getTime()).toBe(7 * 86_400_000);
    });
    expect(await states(ctx.t, id)).toEqual([['active', null]]);

    // The grace runs out.
    await svc.sql("UPDATE sponsorships SET lapsed_since = now() - interval '8 days', revoke_at = now() - interval '1 day' WHERE user_id = $1", [id]);
    await svc.workers!.schedules.runNow('lifecycle-due');
    await eventually(async () => expect(await states(ctx.t, id)).toEqual([['revoked', 'sponsor_removed']]));
    // Nothing more is due for that lapse.
    expect(await svc.sql('SELECT ended FROM sponsorships WHERE user_id = $1', [id])).toEqual([{ ended: true }]);
  });

  it('keeps access when the user is sponsored again within the grace', async () => {
    const ctx = await tenantWith('P7D');
    const id = await partner(ctx, 'sp.five@partner.example');
    await ctx.scim.createUser('new.sponsor@acme.example', { [LANYARD_ACCESS]: { ...INTAKE, sponsor: 'someone.else@acme.example' } });
    await ctx.scim.setActive(ctx.sponsor, false);
    await eventually(async () => expect(await svc.sql('SELECT lapsed_since IS NOT NULL AS lapsed FROM sponsorships WHERE user_id = $1', [id])).toEqual([{ lapsed: true }]));
    await setSponsor(ctx.t, id, 'new.sponsor@acme.example');
    await eventually(async () => expect(await svc.sql('SELECT sponsor, lapsed_since FROM sponsorships WHERE user_id = $1', [id])).toEqual([{ sponsor: 'new.sponsor@acme.example', lapsed_since: null }]));
    expect(await states(ctx.t, id)).toEqual([['active', null]]);
    expect(await auditActions(svc, ctx.t, id)).toEqual(expect.arrayContaining(['user.sponsor_lapsed', 'user.sponsor_restored']));
  });
});
