import type { GroupFacts } from '../policy/evaluate.js';
import type { Queryable } from './pool.js';

export interface UserForPolicy {
  seq: number;
  id: string;
  userName: string;
  active: boolean;
  doc: Record<string, unknown>;
  groups: GroupFacts[];
}

interface PolicyUserRow {
  seq: number;
  id: string;
  user_name: string;
  active: boolean;
  doc: Record<string, unknown>;
  groups: GroupFacts[];
}

const SELECT = `SELECT r.seq, r.id, r.user_name, r.active, r.doc,
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', g.id, 'displayName', g.display_name, 'externalId', g.external_id)), '[]'::jsonb)
               FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
              WHERE gm.tenant_id = r.tenant_id AND gm.user_id = r.id) AS groups
       FROM users r`;

const toUser = (r: PolicyUserRow): UserForPolicy => ({ seq: r.seq, id: r.id, userName: r.user_name, active: r.active, doc: r.doc, groups: r.groups });

/**
 * A batch of a tenant's users in creation order, after `afterSeq`, each with its groups: the unit in which a
 * whole tenant is walked for policy plans, without holding the tenant in memory.
 */
export async function userBatch(db: Queryable, tenantId: string, afterSeq: number, limit: number): Promise<UserForPolicy[]> {
  const { rows } = await db.query<PolicyUserRow>(`${SELECT} WHERE r.tenant_id = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3`, [tenantId, afterSeq, limit]);
  return rows.map(toUser);
}
