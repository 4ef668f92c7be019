/**
 * Tells a failure of the platform underneath (PostgreSQL or Redis unreachable, shutting down, out of
 * connections, timed out) from a bug. Such failures are answered 503 so a client retries; they must never
 * surface as 404 or be mistaken for "not found".
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

// SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57 (operator intervention:
// admin shutdown, cannot connect now, query canceled by statement_timeout), 55000 (object not in
// prerequisite state: e.g. database not accepting connections), 58 (system error).
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)|^55000$/;

export function isInfrastructureFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // node-postgres reports pool and connection trouble with plain Errors.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Connection is closed/i.test(
    err.message,
  );
}
