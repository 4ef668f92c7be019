import type pg from 'pg';
import type { Logger } from '../log/logger.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { validDurationMs } from '../policy/iso-duration.js';
import type { ConnectorInstances } from '../provisioning/connector-instances.js';
import type { JobQueues } from '../provisioning/job-queues.js';
import { activityDue, recordActivity } from '../store/activity-store.js';
import { listConnectors } from '../store/connectors-store.js';
import { currentPolicy } from '../store/policy-store.js';
import { markUsers } from '../store/reconcile-outbox.js';
import { listTenants } from '../store/tenants-store.js';
import { inTenantTx, inTx } from '../store/transaction.js';
import type { Schedule } from './schedules.js';

/** Accounts asked about per run at most; the rest are asked at the next run. */
const CHECKS_PER_RUN = 20_000;
/** Downstream questions in flight at once: a check must not crowd out provisioning. */
const CONCURRENCY = 8;

/**
 * The inactivity schedule: for tenants whose policy has an `inactivity` rule, asks each connector that can
 * tell (`lastActivity`) when each active account was last used, keeps the latest answer ever seen, and
 * marks for reconciliation the users with an account unused for the period. The reconcile revokes their
 * unused grants (reason `inactive`), through the brake and the revocation lane like any other.
 */
export function inactivitySchedule(deps: { pool: pg.Pool; connectors: ConnectorInstances; queues: JobQueues; everyMs: number; log: Logger }): Schedule {
  const { pool, connectors, queues, log } = deps;
  return {
    id: 'inactivity-check',
    everyMs: deps.everyMs,
    async run() {
      const now = new Date();
      const rules = await inactivityRules(pool);
      const capable: { tenantId: string; connector: string }[] = [];
      for (const [tenantId] of rules) {
        const records = await inTenantTx(pool, tenantId, (db) => listConnectors(db, tenantId), { readOnly: true });
        for (const record of records) {
          const live = await connectors.get(tenantId, record.name).catch(() => null);
          if (live?.connector.lastActivity) capable.push({ tenantId, connector: record.name });
        }
      }
      // Accounts checked within the last interval are left alone, so a run never asks twice.
      const due = await activityDue(pool, capable, new Date(now.getTime() - deps.everyMs / 2), CHECKS_PER_RUN);
      const unused = new Map<string, Set<string>>();
      let checked = 0;
      let failed = 0;
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const account = due[next++]!;
          try {
            const live = await connectors.get(account.tenantId, account.connector);
            if (!live?.connector.lastActivity) continue;
            const reported = await live.connector.lastActivity({ id: account.ref });
            const last = await inTenantTx(pool, account.tenantId, (db) => recordActivity(db, account.tenantId, account.connector, account.userId, reported));
            checked += 1;
            const cutoff = now.getTime() - rules.get(account.tenantId)!;
            if (last === null || last.getTime() <= cutoff) {
              const users = unused.get(account.tenantId) ?? new Set<string>();
              users.add(account.userId);
              unused.set(account.tenantId, users);
            }
          } catch (err) {
            failed += 1;
            log.warn({ tenantId: account.tenantId, connector: account.connector, err: { message: (err as Error).message } }, 'could not read an account’s last activity');
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      let marked = 0;
      for (const [tenantId, users] of unused) {
        const ids = await inTenantTx(pool, tenantId, (db) => markUsers(db, tenantId, [...users].sort(), 'lifecycle.inactive'));
        await queues.enqueueReconciles(ids.map((userId) => ({ tenantId, userId })), 'priority');
        marked += ids.length;
      }
      return { checked, failed, marked };
    },
  };
}

/** Tenants (active ones) whose current policy has an inactivity rule, with its period in milliseconds. */
async function inactivityRules(pool: pg.Pool): Promise<Map<string, number>> {
  const tenants = await inTx(pool, (db) => listTenants(db), { readOnly: true });
  const rules = new Map<string, number>();
  for (const tenant of tenants) {
    if (tenant.status !== 'active') continue;
    const version = await inTenantTx(pool, tenant.id, (db) => currentPolicy(db, tenant.id), { readOnly: true });
    const after = (version?.document as PolicyDocument | undefined)?.inactivity?.after;
    if (after) rules.set(tenant.id, validDurationMs(after));
  }
  return rules;
}
