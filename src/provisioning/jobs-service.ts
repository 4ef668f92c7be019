import type pg from 'pg';
import { DomainError } from '../errors/domain-error.js';
import { clearAccountError } from '../store/accounts-store.js';
import { failedWork, requeueFailedGrants } from '../store/grants-store.js';
import { pendingLanes } from '../store/pending-work.js';
import { inTx } from '../store/transaction.js';
import { listTenants } from '../store/tenants-store.js';
import { inTenantBySlug, requireTenant } from '../tenants/tenant-service.js';
import type { Tenant } from '../tenants/tenant.js';
import type { ConnectorWork } from './jobs.js';
import { connectorWorkId, parseConnectorWorkId } from './jobs.js';

export interface FailedJob {
  /** What `lanyard jobs retry` takes. */
  id: string;
  tenant: string;
  connector: string;
  userName: string;
  /** Grants waiting on this work. */
  grants: number;
  error: string | null;
  failedAt: Date;
}

/**
 * Parked downstream work, for operators. The record lives in PostgreSQL (failed grants and accounts), so
 * it survives anything that happens to Redis; retrying puts it back in flight and queues it.
 */
export class JobsService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly enqueue: (work: ConnectorWork[]) => Promise<void>,
  ) {}

  async failed(slug?: string): Promise<FailedJob[]> {
    const result: FailedJob[] = [];
    for (const tenant of await this.tenants(slug)) {
      const work = await inTenantBySlug(this.pool, tenant.slug, (db) => failedWork(db, tenant.id), { readOnly: true });
      for (const w of work) {
        result.push({ id: connectorWorkId({ tenantId: tenant.id, userId: w.userId, connector: w.connector }), tenant: tenant.slug, connector: w.connector, userName: w.userName, grants: w.grants, error: w.error, failedAt: w.failedAt });
      }
    }
    return result;
  }

  /** Retries one parked job by id; answers how many grants went back in flight. */
  async retry(id: string, actor: string): Promise<number> {
    const key = parseConnectorWorkId(id);
    if (!key) throw new DomainError('invalid_input', `"${id.slice(0, 200)}" is not a job id (c-<tenant id>-<user id>-<connector>)`);
    const tenant = (await inTx(this.pool, (db) => listTenants(db), { readOnly: true })).find((t) => t.id === key.tenantId);
    if (!tenant) throw new DomainError('not_found', `no failed job "${id}"`);
    const failed = await this.failed(tenant.slug);
    if (!failed.some((f) => f.id === id)) throw new DomainError('not_found', `no failed job "${id}"`);
    return this.requeue(tenant, [key], actor);
  }

  /** Retries every parked job, of one tenant or of all. */
  async retryAll(slug: string | undefined, actor: string): Promise<{ jobs: number; grants: number }> {
    let jobs = 0;
    let grants = 0;
    for (const tenant of await this.tenants(slug)) {
      const failed = await this.failed(tenant.slug);
      jobs += failed.length;
      grants += await this.requeue(tenant, failed.map((f) => parseConnectorWorkId(f.id)!), actor);
    }
    return { jobs, grants };
  }

  private async requeue(tenant: Tenant, keys: Pick<ConnectorWork, 'tenantId' | 'userId' | 'connector'>[], actor: string): Promise<number> {
    const { moved, work } = await inTenantBySlug(this.pool, tenant.slug, async (db) => {
      let moved = 0;
      const work: ConnectorWork[] = [];
      for (const key of keys) {
        moved += await requeueFailedGrants(db, tenant.id, key.userId, key.connector, actor);
        await clearAccountError(db, tenant.id, key.connector, key.userId);
        const lanes = await pendingLanes(db, tenant.id, key.userId, key.connector);
        if (lanes.grant || lanes.revoke) work.push({ ...key, lane: lanes.revoke ? 'revoke' : 'grant' });
      }
      return { moved, work };
    });
    // Queued after the commit; if Redis is unavailable now, the sweep queues it.
    await this.enqueue(work).catch(() => {});
    return moved;
  }

  private async tenants(slug: string | undefined): Promise<Tenant[]> {
    return inTx(this.pool, async (db) => (slug === undefined ? listTenants(db) : [await requireTenant(db, slug)]), { readOnly: true });
  }
}
