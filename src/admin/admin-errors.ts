import { ConfigError } from '../errors/config-error.js';
import { type DomainErrorCode, isDomainError } from '../errors/domain-error.js';
import { isInfrastructureFailure } from '../errors/infrastructure.js';
import type { Problem } from './problem.js';

const DOMAIN: Record<DomainErrorCode, { status: number; title: string }> = {
  invalid_input: { status: 400, title: 'Bad Request' },
  not_found: { status: 404, title: 'Not Found' },
  conflict: { status: 409, title: 'Conflict' },
  limit_reached: { status: 409, title: 'Conflict' },
  forbidden: { status: 403, title: 'Forbidden' },
};

/** Seconds a client should wait before retrying when PostgreSQL or Redis cannot be reached. */
export const UNAVAILABLE_RETRY_AFTER = '5';

/**
 * The one place an error becomes an admin API answer. Domain errors keep their code; a backing service
 * that cannot be reached is 503 `unavailable` (never a 404 that would say the thing does not exist); a
 * request the JSON parser refused is 400 `malformed_body`; anything else is a bug, answered 500 `internal`
 * without its message, which may hold what the caller should not see.
 */
export function problemFor(err: unknown): Problem & { headers?: Record<string, string> } {
  if (isDomainError(err)) return { ...DOMAIN[err.code], code: err.code, detail: err.message };
  if (isInfrastructureFailure(err)) {
    return { status: 503, title: 'Service Unavailable', code: 'unavailable', detail: 'a backing service cannot be reached; try again', headers: { 'Retry-After': UNAVAILABLE_RETRY_AFTER } };
  }
  if (err instanceof ConfigError) return { status: 500, title: 'Internal Server Error', code: 'invalid_config', detail: `the service is not configured for this: ${err.message}` };
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.parse.failed') return { status: 400, title: 'Bad Request', code: 'malformed_body', detail: 'the request body is not valid JSON' };
  if (type === 'entity.too.large') return { status: 413, title: 'Content Too Large', code: 'body_too_large', detail: 'the request body is too large' };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return { status: 415, title: 'Unsupported Media Type', code: 'unsupported_media_type', detail: 'the request body must be UTF-8' };
  return { status: 500, title: 'Internal Server Error', code: 'internal', detail: 'the request failed unexpectedly; the service logged why' };
}
