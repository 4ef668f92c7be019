import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_QUEUE } from '../../src/lifecycle/schedules.js';
import { eventually } from '../helpers/eventually.js';
import { idp } from '../helpers/provisioning-tenant.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

/** The schedules as BullMQ runs them: registered once, fired by BullMQ on their interval. */
let svc: TestService;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lanyard-schedules-'));
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  svc = await startTestService({ LIFECYCLE_INTERVAL: '500ms', AUDIT_SIGNING_KEY_FILE: keyFile, AUDIT_CHECKPOINT_DIR: join(dir, 'checkpoints') }, { workers: true });
});
afterAll(async () => {
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('schedules', () => {
  it('are registered as BullMQ job schedulers, once whatever the number of workers', async () => {
    const queue = new Queue(LIFECYCLE_QUEUE, { connection: svc.runtime.queues().connection, prefix: svc.config.jobs.queuePrefix });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every]).sort()).toEqual([
        ['audit-checkpoint', svc.config.audit.checkpointIntervalMs],
        ['inactivity-check', svc.config.jobs.inactivityCheckIntervalMs],
        ['lifecycle-due', 500],
        ['token-expiry-warning', 86_400_000],
      ]);
    } finally {
      await queue.close();
    }
  });

  it('run on their own: an approval request past its deadline expires without anyone acting', async () => {
    const t = await svc.tenant();
    await svc.runtime.policies.apply(
      t.slug,
      'version: 1\npackages:\n  crm:\n    entitlements:\n      crm: [group:Viewers]\n    maxDuration: P30D\n    approval: required\napprovals:\n  approvers: [tenant]\n  tenantApprovers: [lead@acme.example]\nrules:\n  - when: { group: Sales }\n    grant: [crm]\n',
      'operator:test',
    );
    const scim = idp(svc, t);
    const id = await scim.createUser('late@partner.example');
    await scim.createGroup('Sales', [id]);
    const [request] = await eventually(async () => {
      const rows = await svc.sql<{ id: string }>("SELECT id FROM approval_requests WHERE user_id = $1 AND state = 'pending'", [id]);
      expect(rows).toHaveLength(1);
      return rows;
    });
    await svc.sql("UPDATE approval_requests SET deadline = now() - interval '1 second' WHERE id = $1", [request!.id]);
    await eventually(async () => expect(await svc.sql('SELECT state FROM approval_requests WHERE id = $1', [request!.id])).toEqual([{ state: 'expired' }]), { timeoutMs: 15_000 });
  });

  it('write signed audit checkpoints outside the database', async () => {
    await svc.tenant();
    expect((await svc.workers!.schedules.runNow('audit-checkpoint'))['written']).toBeGreaterThanOrEqual(1);
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(1);
  });
});
