import { ConnectorError } from './connector-error.js';

/**
 * Reads a `Retry-After` header (seconds, or an HTTP date) as milliseconds from `now`; null when absent or
 * unreadable. Capped at an hour so a confused downstream cannot park a connector for days.
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    // An HTTP-date names its day and month; anything else (`-5`, `soon`) is not a Retry-After.
    const at = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : NaN;
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), 3_600_000);
}

/**
 * The one mapping from an HTTP answer to a connector error, shared by every HTTP-speaking connector. `what`
 * says which call failed; response bodies are left out, as they may echo secrets or personal data.
 */
export function errorFromStatus(status: number, what: string, retryAfter?: string | null): ConnectorError {
  const text = `${what}: HTTP ${status}`;
  if (status === 401) return new ConnectorError('auth_failed', text);
  if (status === 403) return new ConnectorError('forbidden', text);
  if (status === 404) return new ConnectorError('not_found', text);
  if (status === 409) return new ConnectorError('conflict', text);
  if (status === 429) return new ConnectorError('rate_limited', text, parseRetryAfter(retryAfter) ?? undefined);
  if (status === 501) return new ConnectorError('unsupported', text);
  if (status >= 500 || status === 408) return new ConnectorError('unavailable', text, parseRetryAfter(retryAfter) ?? undefined);
  // The downstream refused what was sent: a mapping or configuration problem, not something a retry fixes.
  if (status === 400 || status === 422) return new ConnectorError('invalid_config', text);
  return new ConnectorError('invalid_response', text);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** A transport failure (refused, reset, timed out, aborted by a timeout) is `unavailable`; others pass through. */
export function errorFromNetwork(err: unknown, what: string): unknown {
  if (err instanceof ConnectorError) return err;
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  if ((code && NETWORK_CODES.has(code)) || e?.name === 'TimeoutError') {
    return new ConnectorError('unavailable', `${what}: ${code ?? 'timed out'}`);
  }
  return err;
}
