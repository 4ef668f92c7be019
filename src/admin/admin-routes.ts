import { auditRoutes } from './routes/audit-routes.js';
import { decisionRoutes } from './routes/decision-routes.js';
import { directoryRoutes } from './routes/directory-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { setupRoutes } from './routes/setup-routes.js';
import { tenantRoutes } from './routes/tenant-routes.js';
import type { AdminRoute } from './route.js';

/** Every operation of /admin/v1: the router serves these and the OpenAPI document describes exactly these. */
export function adminRoutes(): AdminRoute[] {
  return [...tenantRoutes(), ...setupRoutes(), ...directoryRoutes(), ...decisionRoutes(), ...auditRoutes(), ...opsRoutes()];
}
