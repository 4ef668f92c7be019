import type pg from 'pg';
import { ScimError } from '../errors/scim-error.js';
import { inTenantTx } from '../store/transaction.js';
import type { Tx } from '../store/transaction.js';

/** Turns PostgreSQL's unique_violation on a SCIM uniqueness index into 409 `uniqueness` (RFC 7644 §3.3). */
export function asUniquenessError(err: unknown, constraints: Record<string, string>): unknown {
  const pgErr = err as { code?: string; constraint?: string };
  if (pgErr.code === '23505' && pgErr.constraint && constraints[pgErr.constraint]) {
    return new ScimError(409, 'uniqueness', constraints[pgErr.constraint]!);
  }
  return err;
}

/**
 * A SCIM write: one transaction in the tenant's context, with a violated uniqueness index (named in
 * `constraints`, mapped to what the client is told) answered as 409.
 */
export async function scimWrite<T>(
  pool: pg.Pool,
  tenantId: string,
  constraints: Record<string, string>,
  work: (db: Tx) => Promise<T>,
): Promise<T> {
  try {
    return await inTenantTx(pool, tenantId, work);
  } catch (err) {
    throw asUniquenessError(err, constraints);
  }
}
