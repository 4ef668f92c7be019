import { z } from 'zod';

/**
 * The job queues and what their jobs carry. Job data holds identifiers only: never a user's attributes,
 * never a secret. Job ids are deterministic, so the same intent queued twice is one job (a first filter
 * only: effects are made idempotent in PostgreSQL), and contain no ":" (BullMQ reserves it).
 */
export const QUEUE_NAMES = {
  /** Bring one user's grants in line with policy (database work only). */
  reconcile: 'reconcile',
  /**
   * The same, for changes that may take access away (deactivation, deletion, removal from a group): their
   * own queue, so an offboarding never waits behind the reconciles of a large initial push.
   */
  reconcilePriority: 'reconcile-priority',
  /** Downstream work that adds access. */
  grants: 'grants',
  /** Downstream work that takes access away: its own queue and workers, never behind a backlog of grants. */
  revocations: 'revocations',
} as const;

/**
 * Marks whose reconcile was queued on the priority lane (they may take access away). The sweep re-queues a
 * mark on the lane it was first queued on, so that work still waiting there is not queued twice; a mark
 * whose lane the cause does not tell (a group change may add or remove) goes to the normal lane.
 */
const PRIORITY_CAUSES = new Set([
  'user.patched',
  'user.replaced',
  'user.deleted',
  'sponsor.changed',
  'sponsor.deleted',
  'group.deleted',
  'tenant.contract_changed',
  'tenant.offboarded',
  'hold.released',
  'lifecycle.due',
  'lifecycle.inactive',
]);

export function laneOfCause(cause: string): 'normal' | 'priority' {
  return PRIORITY_CAUSES.has(cause) ? 'priority' : 'normal';
}

export const reconcileJobSchema = z.object({ tenantId: z.uuid(), userId: z.uuid() }).strict();
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

export const connectorWorkSchema = z
  .object({
    tenantId: z.uuid(),
    userId: z.uuid(),
    connector: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    /** `revoke` when any of the work takes access away. */
    lane: z.enum(['grant', 'revoke']),
  })
  .strict();
export type ConnectorWork = z.infer<typeof connectorWorkSchema>;

export function reconcileJobId(job: ReconcileJob): string {
  return `r-${job.tenantId}-${job.userId}`;
}

/** Also the id operators use for parked work (`lanyard jobs retry <id>`), whichever lane it was on. */
export function connectorWorkId(work: Pick<ConnectorWork, 'tenantId' | 'userId' | 'connector'>): string {
  return `c-${work.tenantId}-${work.userId}-${work.connector}`;
}

const WORK_ID = /^c-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([a-z0-9][a-z0-9-]{0,62})$/;

export function parseConnectorWorkId(id: string): Pick<ConnectorWork, 'tenantId' | 'userId' | 'connector'> | null {
  const match = WORK_ID.exec(id);
  return match ? { tenantId: match[1]!, userId: match[2]!, connector: match[3]! } : null;
}
