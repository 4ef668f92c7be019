import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../log/logger.js';
import { isInfrastructureFailure } from '../../errors/infrastructure.js';
import { isScimError, SCIM_TYPES, type ScimType } from '../../errors/scim-error.js';
import { ERROR_MESSAGE } from '../schemas.js';
import { sendScim } from './send.js';

interface Rendered {
  status: number;
  scimType?: ScimType | undefined;
  detail: string;
  headers?: Record<string, string>;
}

/**
 * The one place a SCIM request's failure becomes a response (RFC 7644 §3.12). Client mistakes keep their
 * own status; a database or Redis outage is 503 with Retry-After, so an IdP retries instead of concluding a
 * resource is gone; anything else is a 500 whose details stay in the log.
 */
export function scimErrorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const rendered = render(err);
    // The request logger reports a 5xx with this error attached; outside it, log here.
    if (rendered.status >= 500) {
      if ((req as { log?: unknown }).log) (res as { err?: unknown }).err = err;
      else log.error({ err }, 'SCIM request failed');
    }
    const body: Record<string, unknown> = { schemas: [ERROR_MESSAGE], status: String(rendered.status) };
    if (rendered.scimType) body['scimType'] = rendered.scimType;
    body['detail'] = rendered.detail;
    sendScim(res, rendered.status, body, rendered.headers ?? {});
  };
}

function render(err: unknown): Rendered {
  if (isScimError(err)) return { status: err.status, scimType: err.scimType, detail: err.detail, headers: { ...err.headers } };
  const e = err as { name?: string; status?: unknown; scimType?: unknown; message?: string; type?: string; code?: string };
  // scimmy's own error type, thrown by schema validation and PatchOp.
  if (e?.name === 'SCIMError' && typeof e.status === 'number' && e.status < 500) {
    const scimType = SCIM_TYPES.includes(e.scimType as ScimType) ? (e.scimType as ScimType) : undefined;
    return { status: e.status, scimType, detail: e.message ?? 'invalid request' };
  }
  // The router could not percent-decode a path segment: the client's mistake, not ours.
  if (e?.name === 'URIError' && e.status === 400) return { status: 400, detail: 'the request path is not valid percent-encoding' };
  if (e?.name === 'FilterError') return { status: 400, scimType: 'invalidFilter', detail: e.message ?? 'invalid filter' };
  if (e?.type === 'entity.too.large') return { status: 413, detail: 'the request body is larger than this service accepts' };
  if (e?.type === 'entity.parse.failed') return { status: 400, scimType: 'invalidSyntax', detail: 'the request body is not valid JSON' };
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') {
    return { status: 415, detail: 'the request body must be UTF-8 JSON' };
  }
  if (isInfrastructureFailure(err)) {
    return { status: 503, detail: 'the service is temporarily unavailable; retry later', headers: { 'Retry-After': '5' } };
  }
  return { status: 500, detail: 'internal error' };
}
