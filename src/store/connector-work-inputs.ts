import type { GrantState } from '../policy/grant-state.js';
import type { AccountRecord, AccountState } from './accounts-store.js';
import type { PendingGrant } from './grants-store.js';
import type { Queryable } from './pool.js';

/** What one connector job reads before it calls the downstream, in one round trip. */
export interface ConnectorWorkInputs {
  /** The user's grants on the connector in the lane's state, oldest first. */
  grants: PendingGrant[];
  account: AccountRecord | null;
  /** Entitlements the user holds, or is being given, through the connector (see heldEntitlements). */
  held: Set<string>;
  /** The stored SCIM user, if it still exists. */
  user: { userName: string; active: boolean; doc: Record<string, unknown> } | null;
}

interface Row {
  grants: { id: string; entitlement: string; state: GrantState; user_name: string; revoke_reason: string | null }[];
  account: { connector: string; user_id: string; user_name: string; ref: string; state: AccountState; desired: AccountState; last_error: string | null } | null;
  held: string[];
  user: { user_name: string; active: boolean; doc: Record<string, unknown> } | null;
}

/**
 * One statement, outside any transaction: `lanyard_connector_work_inputs` (migration 0015) sets the
 * tenant's row-level-security context for itself and reads from one snapshot.
 */
export async function connectorWorkInputs(db: Queryable, tenantId: string, userId: string, connector: string, state: 'provisioning' | 'revoking'): Promise<ConnectorWorkInputs> {
  const { rows } = await db.query<Row>({
    name: 'connector-work.inputs',
    text: 'SELECT grants, account, held, "user" FROM lanyard_connector_work_inputs($1, $2, $3, $4)',
    values: [tenantId, userId, connector, state],
  });
  const row = rows[0]!;
  const a = row.account;
  return {
    grants: row.grants.map((g) => ({ id: g.id, entitlement: g.entitlement, state: g.state, userName: g.user_name, revokeReason: g.revoke_reason })),
    account: a ? { connector: a.connector, userId: a.user_id, userName: a.user_name, ref: a.ref, state: a.state, desired: a.desired, lastError: a.last_error } : null,
    held: new Set(row.held),
    user: row.user ? { userName: row.user.user_name, active: row.user.active, doc: row.user.doc } : null,
  };
}
