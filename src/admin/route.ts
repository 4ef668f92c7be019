import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Operator } from '../operators/operator.js';
import type { AdminServices } from './admin-services.js';
import type { AdminAction } from './permissions.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/**
 * Who a route is for:
 * - `tenant`: about the tenant named by the `{slug}` path parameter; a tenant-admin must have that tenant;
 * - `listing`: across tenants, answered with only what the operator may see (a tenant-admin's own tenants);
 * - `any`: about no tenant (validating a document); any role with the action passes;
 * - `msp`: across tenants or about the MSP itself; only roles that span every tenant pass.
 */
export type RouteScope = 'tenant' | 'listing' | 'any' | 'msp';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  operator: Operator;
  /** The actor recorded in audit events: `operator:key:<name>` or `operator:oidc:<name>`. */
  actor: string;
  services: AdminServices;
  req: Request;
  res: Response;
}

/** A JSON answer, checked against `schema` before it is sent. */
export interface JsonAnswer {
  status: 200 | 201;
  description: string;
  schema: z.ZodType;
}

/** An answer the handler writes itself (exports, reports), described here for the OpenAPI document. */
export interface StreamAnswer {
  status: 200;
  description: string;
  /** Media types the handler may answer with, each with the schema of one document or a plain string. */
  media: Record<string, z.ZodType>;
}

export interface AdminRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** OpenAPI style, below /admin/v1: `/tenants/{slug}/connectors/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  action: AdminAction;
  scope: RouteScope;
  params?: P;
  query?: Q;
  body?: B;
  /** Besides JSON: a body in this YAML media type is read as `{ source: <text> }`. */
  yamlSource?: boolean;
  answer: JsonAnswer | StreamAnswer;
  /** Statuses besides 401/403/503/500 the operation answers with a problem. */
  problems: readonly (400 | 404 | 409 | 422)[];
  handle(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
}

/** Keeps the handler's types tied to the route's schemas. */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(r: AdminRoute<P, Q, B>): AdminRoute {
  return r as unknown as AdminRoute;
}

export function isStream(answer: JsonAnswer | StreamAnswer): answer is StreamAnswer {
  return 'media' in answer;
}
