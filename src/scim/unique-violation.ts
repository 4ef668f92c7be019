import { ScimError } from '../errors/scim-error.js';

/** Turns PostgreSQL's unique_violation on a SCIM uniqueness index into 409 `uniqueness` (RFC 7644 §3.3). */
export function asUniquenessError(err: unknown, constraints: Record<string, string>): unknown {
  const pgErr = err as { code?: string; constraint?: string };
  if (pgErr.code === '23505' && pgErr.constraint && constraints[pgErr.constraint]) {
    return new ScimError(409, 'uniqueness', constraints[pgErr.constraint]!);
  }
  return err;
}
