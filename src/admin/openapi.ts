import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { z } from 'zod';
import { problemSchema } from './schemas.js';
import { type AdminRoute, isStream } from './route.js';

const PROBLEM_TITLES: Record<number, string> = {
  400: 'the request is malformed or invalid (`invalid_request`, `invalid_input`, `malformed_body`)',
  401: 'no operator credential, or one that is not valid, has expired or was revoked',
  403: "the operator's role or tenants do not allow this (`forbidden`)",
  404: 'no such tenant or resource (`not_found`)',
  409: 'the resource is not in a state that allows this (`conflict`, `limit_reached`)',
  422: 'the document is well-formed but not valid',
  500: 'a bug or a missing setting (`internal`, `invalid_config`)',
  503: 'PostgreSQL, Redis or the OIDC issuer cannot be reached (`unavailable`); retry after `Retry-After`',
};

function problem(status: number) {
  return { description: PROBLEM_TITLES[status]!, content: { 'application/problem+json': { schema: problemSchema } } };
}

function operation(r: AdminRoute): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  if (isStream(r.answer)) {
    responses[String(r.answer.status)] = {
      description: r.answer.description,
      content: Object.fromEntries(Object.entries(r.answer.media).map(([type, schema]) => [type, { schema }])),
    };
  } else {
    responses[String(r.answer.status)] = { description: r.answer.description, content: { 'application/json': { schema: r.answer.schema } } };
  }
  for (const status of [...r.problems, 401, 403, 500, 503]) responses[String(status)] = problem(status);
  const scope = { tenant: ', on the tenant in the path', listing: '; lists only the tenants the operator may see', any: '', msp: ', across tenants' }[r.scope];
  const op: ZodOpenApiOperationObject = {
    operationId: r.operationId,
    summary: r.summary,
    description: `Requires \`${r.action}\`${scope}.`,
    tags: [r.tag],
    responses: responses as ZodOpenApiOperationObject['responses'],
  };
  const requestParams: NonNullable<ZodOpenApiOperationObject['requestParams']> = {};
  if (r.params) requestParams.path = r.params as z.ZodObject;
  if (r.query) requestParams.query = r.query as z.ZodObject;
  if (r.params || r.query) op.requestParams = requestParams;
  if (r.body) {
    op.requestBody = {
      required: true,
      content: {
        'application/json': { schema: r.body },
        ...(r.yamlSource ? { 'application/yaml': { schema: z.string().meta({ description: 'the document itself, as `source`' }) } } : {}),
      },
    };
  }
  return op;
}

/** The OpenAPI 3.1 document of the admin API, generated from the routes' own zod schemas. */
export function openApiDocument(routes: readonly AdminRoute[], publicBaseUrl: string): unknown {
  const paths: ZodOpenApiPathsObject = {};
  for (const r of routes) paths[r.path] = { ...paths[r.path], [r.method]: operation(r) };
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Lanyard admin API',
        version: '1',
        description:
          'Run an MSP\'s tenants: tenants, SCIM tokens, connectors, policy, the directory (read-only), grants, approvals, holds, ' +
          'exceptions, the audit trail, evidence and parked jobs. Authenticate with an operator API key or a JWT of the ' +
          "MSP's OIDC issuer as `Authorization: Bearer`. Errors are RFC 9457 problem details with a stable `code`. " +
          'Lists are paged with `limit` and the opaque `cursor` each page gives as `nextCursor`.',
      },
      servers: [{ url: `${publicBaseUrl}/admin/v1` }],
      security: [{ operator: [] }],
      components: {
        securitySchemes: {
          operator: { type: 'http', scheme: 'bearer', description: 'an operator API key (`lanyard_op_…`) or a JWT of the configured OIDC issuer' },
        },
      },
      paths,
    },
  );
}
