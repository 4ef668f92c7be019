import type { AuditEventInput } from '../audit/audit-event.js';
import { writeWithAudit } from '../audit/record-audit-event.js';
import type { Queryable } from './pool.js';
import type { Tx } from './transaction.js';

export const ACCOUNT_STATES = ['active', 'disabled', 'removed'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

export interface AccountRecord {
  connector: string;
  userId: string;
  userName: string;
  ref: string;
  state: AccountState;
  desired: AccountState;
  lastError: string | null;
}

interface AccountRow {
  connector: string;
  user_id: string;
  user_name: string;
  ref: string;
  state: AccountState;
  desired: AccountState;
  last_error: string | null;
}

const COLUMNS = 'connector, user_id, user_name, ref, state, desired, last_error';
const toRecord = (r: AccountRow): AccountRecord => ({
  connector: r.connector,
  userId: r.user_id,
  userName: r.user_name,
  ref: r.ref,
  state: r.state,
  desired: r.desired,
  lastError: r.last_error,
});

export async function findAccount(db: Queryable, tenantId: string, connector: string, userId: string): Promise<AccountRecord | null> {
  const { rows } = await db.query<AccountRow>({
    name: 'accounts.find',
    text: `SELECT ${COLUMNS} FROM connector_accounts WHERE tenant_id = $1 AND connector = $2 AND user_id = $3`,
    values: [tenantId, connector, userId],
  });
  return rows[0] ? toRecord(rows[0]) : null;
}

/** What the reconcile wants of an existing account; answers whether that changed (work to do downstream). */
export async function setAccountDesired(db: Queryable, tenantId: string, connector: string, userId: string, desired: AccountState): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'accounts.desire',
    text: `UPDATE connector_accounts SET desired = $4, last_error = NULL, updated_at = now()
            WHERE tenant_id = $1 AND connector = $2 AND user_id = $3 AND desired <> $4`,
    values: [tenantId, connector, userId, desired],
  });
  return rowCount === 1;
}

/**
 * Records an account the downstream now has enabled (created or brought back), with its audit event. The
 * desired state is left alone when the row exists: a reconcile may have asked for it to go meanwhile.
 */
export async function recordAccountEnsured(
  db: Tx,
  tenantId: string,
  account: { connector: string; userId: string; userName: string; ref: string },
  event: AuditEventInput | null,
): Promise<AccountRecord> {
  const statement = {
    name: 'accounts.ensured',
    text: `INSERT INTO connector_accounts (tenant_id, connector, user_id, user_name, ref, state, desired)
           VALUES ($1, $2, $3, $4, $5, 'active', 'active')
           ON CONFLICT (tenant_id, connector, user_id) DO UPDATE
             SET ref = EXCLUDED.ref, user_name = EXCLUDED.user_name, state = 'active', last_error = NULL, updated_at = now()
           RETURNING ${COLUMNS}`,
    values: [tenantId, account.connector, account.userId, account.userName, account.ref],
  };
  const rows = event ? await writeWithAudit<AccountRow>(db, tenantId, statement, event) : (await db.query<AccountRow>(statement)).rows;
  return toRecord(rows[0]!);
}

/** Records the downstream state an account was brought to, if the account still wants it. */
export async function recordAccountState(
  db: Tx,
  tenantId: string,
  connector: string,
  userId: string,
  state: AccountState,
  event: AuditEventInput,
  opts: { desired?: AccountState } = {},
): Promise<boolean> {
  const rows = await writeWithAudit(
    db,
    tenantId,
    {
      name: 'accounts.state',
      text: `UPDATE connector_accounts SET state = $4, desired = COALESCE($5, desired), last_error = NULL, updated_at = now()
              WHERE tenant_id = $1 AND connector = $2 AND user_id = $3 AND state <> $4
              RETURNING user_id`,
      values: [tenantId, connector, userId, state, opts.desired ?? null],
    },
    event,
  );
  return rows.length === 1;
}

export async function recordAccountError(db: Queryable, tenantId: string, connector: string, userId: string, error: string): Promise<void> {
  await db.query({
    name: 'accounts.error',
    text: 'UPDATE connector_accounts SET last_error = $4, updated_at = now() WHERE tenant_id = $1 AND connector = $2 AND user_id = $3',
    values: [tenantId, connector, userId, error],
  });
}

export async function clearAccountError(db: Queryable, tenantId: string, connector: string, userId: string): Promise<void> {
  await db.query(
    'UPDATE connector_accounts SET last_error = NULL, updated_at = now() WHERE tenant_id = $1 AND connector = $2 AND user_id = $3 AND last_error IS NOT NULL',
    [tenantId, connector, userId],
  );
}
