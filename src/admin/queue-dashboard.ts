import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type express from 'express';
import { LIFECYCLE_QUEUE } from '../lifecycle/schedules.js';
import type { JobQueues } from '../provisioning/job-queues.js';

/**
 * Bull Board over the provisioning and lifecycle queues, for msp-admins (the admin router checks the role
 * before a request gets here). Job payloads hold ids only, never a secret, so showing them is safe. The
 * lifecycle queue's handle shares the queues' Redis connection, which the runtime closes.
 */
export function queueDashboard(queues: JobQueues, mountedAt: string, queuePrefix: string): express.Router {
  const lifecycle = new Queue(LIFECYCLE_QUEUE, { connection: queues.connection, prefix: queuePrefix });
  const adapter = new ExpressAdapter();
  adapter.setBasePath(mountedAt);
  createBullBoard({
    queues: [queues.reconcilePriority, queues.reconcile, queues.revocations, queues.grants, lifecycle].map((q) => new BullMQAdapter(q)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Lanyard queues' } },
  });
  return adapter.getRouter() as express.Router;
}
