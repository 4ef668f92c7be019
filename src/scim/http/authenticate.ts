import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import type { Logger } from '../../log/logger.js';
import { ScimError } from '../../errors/scim-error.js';
import { lookupToken, touchToken } from '../../store/scim-tokens-store.js';
import { inTenantTx } from '../../store/transaction.js';
import { parseToken, secretMatches } from '../../tenants/scim-token.js';
import type { TenantContext } from '../tenant-context.js';

/** Last use is recorded at most this often per token: a write per request would cost more than it tells. */
const LAST_USED_RESOLUTION_MS = 60_000;

function unauthorized(detail: string, tokenPresented: boolean): ScimError {
  const challenge = tokenPresented ? 'Bearer realm="lanyard", error="invalid_token"' : 'Bearer realm="lanyard"';
  return new ScimError(401, undefined, detail, { 'WWW-Authenticate': challenge });
}

/**
 * Resolves the bearer token for the tenant in the URL. A token of another tenant, like an unknown tenant,
 * is simply not valid here: both answer 401, so the endpoint does not reveal which tenants exist.
 */
export function authenticate(pool: pg.Pool, publicBaseUrl: string, log: Logger) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const slug = String(req.params['tenant'] ?? '');
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) throw unauthorized('a bearer token is required', false);
    const parsed = parseToken(match[1]!);
    if (!parsed) throw unauthorized('the bearer token is not valid for this tenant', true);
    const found = await lookupToken(pool, slug, parsed.id);
    if (!found || !secretMatches(parsed.secret, found.secretHash)) {
      throw unauthorized('the bearer token is not valid for this tenant', true);
    }
    if (found.revokedAt) throw unauthorized('the bearer token has been revoked', true);
    if (found.expiresAt.getTime() <= Date.now()) throw unauthorized('the bearer token has expired', true);
    if (found.tenantStatus !== 'active') throw new ScimError(403, undefined, `tenant "${slug}" is ${found.tenantStatus}`);

    if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Off the request path: a slow or failed bookkeeping write must not fail the IdP's request.
      inTenantTx(pool, found.tenantId, (db) => touchToken(db, parsed.id, LAST_USED_RESOLUTION_MS)).catch((err: unknown) =>
        log.warn({ err, tokenId: parsed.id }, 'could not record token use'),
      );
    }
    const ctx: TenantContext = { tenantId: found.tenantId, slug, tokenId: parsed.id, baseUrl: `${publicBaseUrl}/scim/v2/${slug}` };
    res.locals['scim'] = ctx;
    next();
  };
}

export function tenantContext(res: Response): TenantContext {
  const ctx = res.locals['scim'] as TenantContext | undefined;
  if (!ctx) throw new Error('SCIM handler reached without authentication');
  return ctx;
}
