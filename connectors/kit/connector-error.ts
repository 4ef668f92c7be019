/**
 * The closed set of ways a connector call fails. The code alone tells the worker what to do: only
 * `rate_limited` and `unavailable` are retried (after `retryAfterMs` when the downstream said so); every
 * other code parks the operation as failed for an operator to look at.
 */
export const CONNECTOR_ERROR_CODES = [
  'invalid_config',
  'auth_failed',
  'forbidden',
  'not_found',
  'conflict',
  'rate_limited',
  'unavailable',
  'invalid_response',
  'unsupported',
] as const;
export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<ConnectorErrorCode> = new Set(['rate_limited', 'unavailable']);

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';

  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Recognises a ConnectorError by name and code, also after it crossed a process boundary as plain data. */
export function isConnectorError(err: unknown): err is { name: 'ConnectorError'; code: ConnectorErrorCode; message: string; retryAfterMs?: number } {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'ConnectorError' && CONNECTOR_ERROR_CODES.includes(e.code as ConnectorErrorCode);
}

export function isRetryable(err: unknown): boolean {
  return isConnectorError(err) && RETRYABLE.has(err.code);
}
