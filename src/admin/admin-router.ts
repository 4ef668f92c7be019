import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { formatIssuePath } from '../errors/config-error.js';
import { operatorActor } from '../operators/operator.js';
import { problemFor } from './admin-errors.js';
import type { AdminServices } from './admin-services.js';
import { adminRoutes } from './admin-routes.js';
import { operatorOf } from './operator-auth.js';
import { can, roleAllows } from './permissions.js';
import { sendProblem } from './problem.js';
import { type AdminRoute, isStream } from './route.js';

/** The largest request body the admin API reads: a manifest or policy with room to spare. */
const MAX_BODY = '1mb';
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export interface AdminRouterOptions {
  /** Resolves the operator (`authenticateOperator`), the one instance /metrics shares. */
  authenticate: express.RequestHandler;
  /**
   * Mounted after authentication, for msp-admins only: the queue dashboard, loaded on its first request so
   * a service nobody opens it on never carries it (tens of MB).
   */
  dashboard?: { path: string; load: () => Promise<express.Router> } | undefined;
}

/**
 * `/admin/v1`: every route of `admin-routes.ts`, each authenticated, authorised for its action and tenant,
 * its parameters, query and body validated by the zod schemas the OpenAPI document is generated from, and
 * its JSON answer checked against its schema before it leaves. The document itself is public: it holds
 * no data.
 */
export function adminRouter(services: AdminServices, opts: AdminRouterOptions): Router {
  const routes = adminRoutes();
  const router = express.Router();
  // Generated on first request (then kept): the generator and the document are not carried until asked for.
  let document: Promise<unknown> | undefined;
  router.get('/openapi.json', async (_req, res) => {
    document ??= import('./openapi.js')
      .then((m) => m.openApiDocument(routes, services.config.publicBaseUrl))
      .catch((err: unknown) => {
        document = undefined;
        throw err;
      });
    res.json(await document);
  });
  // Authentication before the body is read: an anonymous caller never makes the service parse anything.
  router.use(opts.authenticate);
  if (opts.dashboard) {
    const { path, load } = opts.dashboard;
    let dashboard: Promise<express.Router> | undefined;
    router.use(path, async (req, res, next) => {
      const operator = operatorOf(res);
      if (operator.role !== 'msp-admin') {
        sendProblem(res, { status: 403, code: 'forbidden', title: 'Forbidden', detail: `${operator.role} ${operator.name} may not open the queue dashboard` });
        return;
      }
      dashboard ??= load().catch((err: unknown) => {
        dashboard = undefined;
        throw err;
      });
      (await dashboard)(req, res, next);
    });
  }
  router.use(express.json({ limit: MAX_BODY }));
  router.use(express.text({ type: YAML_TYPES, limit: MAX_BODY }));
  for (const r of routes) router[r.method](expressPath(r.path), handlerOf(r, services));
  router.use((req, res) => {
    sendProblem(res, { status: 404, code: 'no_such_route', title: 'Not Found', detail: `no admin API operation ${req.method} ${req.baseUrl}${req.path}` });
  });
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { headers, ...problem } = problemFor(err);
    if (problem.status >= 500) req.log.error({ err }, 'admin request failed');
    if (res.headersSent) {
      // A streamed export or report failed part-way: cut the connection, so the client sees an incomplete
      // answer as a failure rather than as a shorter document.
      res.destroy();
      return;
    }
    sendProblem(res, problem, headers);
  });
  return router;
}

function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}

type Issue = { path: string; message: string };

function check<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string, issues: Issue[]): z.output<S> | undefined {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) issues.push({ path: formatIssuePath([where, ...issue.path]), message: issue.message });
  return undefined;
}

function handlerOf(r: AdminRoute, services: AdminServices) {
  return async (req: Request, res: Response): Promise<void> => {
    const operator = operatorOf(res);
    const slug = r.scope === 'tenant' ? String(req.params['slug']) : undefined;
    const allowed = r.scope === 'listing' || r.scope === 'any' ? roleAllows(operator, r.action) : can(operator, r.action, slug);
    if (!allowed) {
      sendProblem(res, { status: 403, code: 'forbidden', title: 'Forbidden', detail: `${operator.role} ${operator.name} may not ${r.action}${slug ? ` on tenant "${slug}"` : ''}` });
      return;
    }
    const issues: Issue[] = [];
    const params = check(r.params, req.params, 'path', issues);
    const query = check(r.query, req.query ?? {}, 'query', issues);
    let rawBody: unknown = req.body;
    if (r.body && r.yamlSource && typeof rawBody === 'string') rawBody = { source: rawBody };
    if (r.body && rawBody === undefined) rawBody = {};
    const body = check(r.body, rawBody, 'body', issues);
    if (issues.length) {
      sendProblem(res, {
        status: 400,
        code: 'invalid_request',
        title: 'Bad Request',
        detail: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
        errors: issues,
      });
      return;
    }
    const result = await r.handle({ params, query, body, operator, actor: operatorActor(operator), services, req, res });
    if (isStream(r.answer)) return;
    // A answer that does not match its own schema is a bug here, not the client's: 500, and logged.
    const checked = r.answer.schema.parse(result);
    res.status(r.answer.status).json(checked);
  };
}
