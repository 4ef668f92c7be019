import type { GrantState } from '../policy/grant-state.js';
import type { CurrentGrant } from '../policy/plan.js';
import type { AccountRecord, AccountState } from './accounts-store.js';
import type { OnDelete } from './connectors-store.js';
import type { Queryable } from './pool.js';
import type { UserForPolicy } from './user-batches.js';

/** Everything one reconcile reads, fetched in one round trip. */
export interface ReconcileInputs {
  user: UserForPolicy | null;
  policy: { version: number; document: unknown } | null;
  grants: CurrentGrant[];
  accounts: AccountRecord[];
  /** Every connector of the tenant, with what a user's deletion does there. */
  onDelete: Map<string, OnDelete>;
}

interface Row {
  user: { seq: number; id: string; user_name: string; active: boolean; doc: Record<string, unknown>; groups: UserForPolicy['groups'] } | null;
  policy: { version: number; document: unknown } | null;
  grants: { id: string; connector: string; entitlement: string; state: GrantState; ends_at: string | null; packages: string[] }[];
  accounts: { connector: string; user_id: string; user_name: string; ref: string; state: AccountState; desired: AccountState; last_error: string | null }[];
  connectors: Record<string, OnDelete>;
}

export async function reconcileInputs(db: Queryable, tenantId: string, userId: string): Promise<ReconcileInputs> {
  const { rows } = await db.query<Row>({
    name: 'reconcile.inputs',
    text: `SELECT
      (SELECT json_build_object('seq', r.seq, 'id', r.id, 'user_name', r.user_name, 'active', r.active, 'doc', r.doc,
              'groups', (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'displayName', g.display_name, 'externalId', g.external_id)), '[]'::json)
                           FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
                          WHERE gm.tenant_id = r.tenant_id AND gm.user_id = r.id))
         FROM users r WHERE r.tenant_id = $1 AND r.id = $2) AS user,
      (SELECT json_build_object('version', p.version, 'document', p.document)
         FROM policy_versions p WHERE p.tenant_id = $1 ORDER BY p.version DESC LIMIT 1) AS policy,
      (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'connector', g.connector, 'entitlement', g.entitlement, 'state', g.state, 'ends_at', g.ends_at,
              'packages', ARRAY(SELECT DISTINCT x ->> 'package' FROM jsonb_array_elements(g.reasons) x))), '[]'::json)
         FROM grants g WHERE g.tenant_id = $1 AND g.user_id = $2 AND g.state <> 'revoked') AS grants,
      (SELECT COALESCE(json_agg(json_build_object('connector', a.connector, 'user_id', a.user_id, 'user_name', a.user_name, 'ref', a.ref,
              'state', a.state, 'desired', a.desired, 'last_error', a.last_error)), '[]'::json)
         FROM connector_accounts a WHERE a.tenant_id = $1 AND a.user_id = $2) AS accounts,
      (SELECT COALESCE(json_object_agg(c.name, c.on_delete), '{}'::json) FROM connectors c WHERE c.tenant_id = $1) AS connectors`,
    values: [tenantId, userId],
  });
  const row = rows[0]!;
  return {
    user: row.user ? { seq: row.user.seq, id: row.user.id, userName: row.user.user_name, active: row.user.active, doc: row.user.doc, groups: row.user.groups } : null,
    policy: row.policy,
    grants: row.grants.map((g) => ({ id: g.id, connector: g.connector, entitlement: g.entitlement, state: g.state, endsAt: g.ends_at ? new Date(g.ends_at) : null, packages: g.packages })),
    accounts: row.accounts.map((a) => ({ connector: a.connector, userId: a.user_id, userName: a.user_name, ref: a.ref, state: a.state, desired: a.desired, lastError: a.last_error })),
    onDelete: new Map(Object.entries(row.connectors)),
  };
}
