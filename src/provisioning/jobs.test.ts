import { describe, expect, it } from 'vitest';
import { connectorWorkId, laneOfCause, parseConnectorWorkId, reconcileJobId } from './jobs.js';

const tenantId = '0b7e4c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b';
const userId = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

describe('job ids', () => {
  it('never contain ":", which BullMQ reserves', () => {
    expect(reconcileJobId({ tenantId, userId })).not.toContain(':');
    expect(connectorWorkId({ tenantId, userId, connector: 'warehouse-pg' })).not.toContain(':');
  });

  it('read a connector job id back into its tenant, user and connector, hyphens in the name included', () => {
    const id = connectorWorkId({ tenantId, userId, connector: 'warehouse-pg' });
    expect(parseConnectorWorkId(id)).toEqual({ tenantId, userId, connector: 'warehouse-pg' });
  });

  it.each(['', 'c-', `r-${tenantId}-${userId}`, `c-${tenantId}-${userId}-`, `c-${tenantId}-${userId}-Bad_Name`, `c-${tenantId}-not-a-uuid-x`])('refuses %j', (id) => {
    expect(parseConnectorWorkId(id)).toBeNull();
  });
});

describe('laneOfCause', () => {
  it('re-queues on the priority lane what was queued there: changes that may take access away', () => {
    for (const cause of ['user.deleted', 'user.patched', 'lifecycle.due', 'lifecycle.inactive', 'hold.released', 'tenant.offboarded']) expect(laneOfCause(cause), cause).toBe('priority');
    for (const cause of ['user.created', 'policy.applied', 'group.patched', 'approval.approved', 'exception.granted']) expect(laneOfCause(cause), cause).toBe('normal');
  });
});
