import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isInfrastructureFailure } from '../errors/infrastructure.js';
import type { Logger } from '../log/logger.js';
import type { Operator } from '../operators/operator.js';
import type { OperatorKeyService } from '../operators/operator-key-service.js';
import type { BearerVerification, OidcBearerVerifier } from './oidc-bearer.js';
import { type AdminAction, can } from './permissions.js';
import { sendProblem } from './problem.js';

const REALM = 'lanyard-admin';
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const RETRY_AFTER_SECONDS = '5';

export interface OperatorAuthDeps {
  keys: Pick<OperatorKeyService, 'verify'>;
  /** Absent: only operator API keys are accepted. */
  oidc?: Pick<OidcBearerVerifier, 'verify'> | undefined;
  log: Logger;
}

type Verdict = { ok: true; operator: Operator } | { ok: false; status: 401 | 403; detail: string };

/**
 * Resolves the operator behind `Authorization: Bearer …` (an operator API key, or a JWT of the configured
 * OIDC issuer) into `res.locals.operator`, or answers:
 * - 401 with `WWW-Authenticate: Bearer` when the credential is missing, malformed, unknown, expired or
 *   revoked: the client should come back with another credential;
 * - 403 `forbidden` when a valid JWT's claims map to no role. The token is genuine, so a new one from the
 *   same IdP would change nothing: the fix is in the operator's groups, which a 401 would hide;
 * - 503 when the issuer or the database cannot be reached, so a good credential is never called bad.
 */
export function authenticateOperator(deps: OperatorAuthDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      unauthorized(res, 'an operator API key or an OIDC bearer token is required', false);
      return;
    }
    let verdict: Verdict;
    try {
      verdict = await verifyCredential(deps, match[1]!);
    } catch (err) {
      if (isInfrastructureFailure(err) || (err as { code?: unknown }).code === 'issuer_unavailable') {
        deps.log.warn({ err: { message: (err as Error).message } }, 'admin authentication unavailable');
        sendProblem(res, { status: 503, code: 'unavailable', title: 'Service Unavailable', detail: 'the credential cannot be checked right now; try again' }, { 'Retry-After': RETRY_AFTER_SECONDS });
        return;
      }
      next(err);
      return;
    }
    if (!verdict.ok) {
      deps.log.info({ status: verdict.status, detail: verdict.detail }, 'admin authentication refused');
      if (verdict.status === 401) unauthorized(res, verdict.detail, true);
      else forbidden(res, verdict.detail, { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` });
      return;
    }
    res.locals['operator'] = verdict.operator;
    next();
  };
}

async function verifyCredential(deps: OperatorAuthDeps, credential: string): Promise<Verdict> {
  if (credential.startsWith('lanyard_op_')) {
    const checked = await deps.keys.verify(credential);
    if (checked.ok) return checked;
    const detail = { invalid: 'the operator API key is not valid', expired: 'the operator API key has expired', revoked: 'the operator API key has been revoked' }[checked.reason];
    return { ok: false, status: 401, detail };
  }
  if (deps.oidc && JWT.test(credential)) return fromBearer(await deps.oidc.verify(credential));
  return { ok: false, status: 401, detail: 'the bearer credential is not valid for the admin API' };
}

function fromBearer(checked: BearerVerification): Verdict {
  if (checked.ok) return checked;
  return { ok: false, status: checked.reason === 'no_role' ? 403 : 401, detail: checked.detail };
}

/**
 * Lets the request through only if the authenticated operator may perform `action` on the tenant
 * `tenantOf` names (for routes about one tenant); otherwise 403 `forbidden`.
 */
export function authorize(action: AdminAction, tenantOf?: (req: Request) => string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const operator = operatorOf(res);
    const tenant = tenantOf?.(req);
    if (!can(operator, action, tenant)) {
      forbidden(res, `${operator.role} ${operator.name} may not ${action}${tenant ? ` on tenant "${tenant}"` : ''}`);
      return;
    }
    next();
  };
}

/** The operator `authenticateOperator` resolved for this request. */
export function operatorOf(res: Response): Operator {
  const operator = res.locals['operator'] as Operator | undefined;
  if (!operator) throw new Error('admin handler reached without authentication');
  return operator;
}

function unauthorized(res: Response, detail: string, presented: boolean): void {
  const challenge = presented ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
  sendProblem(res, { status: 401, code: presented ? 'invalid_token' : 'unauthorized', title: 'Unauthorized', detail }, { 'WWW-Authenticate': challenge });
}

function forbidden(res: Response, detail: string, headers: Record<string, string> = {}): void {
  sendProblem(res, { status: 403, code: 'forbidden', title: 'Forbidden', detail }, headers);
}
