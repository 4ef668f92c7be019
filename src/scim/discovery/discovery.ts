import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, LANYARD_ACCESS, LIST_RESPONSE, schemaDefinitions } from '../schemas.js';

/**
 * Discovery documents (RFC 7644 §4) for one tenant's base URL. Built per request from static definitions
 * and the base URL passed in, never from shared mutable state, so tenants cannot see each other's URLs.
 */
export function serviceProviderConfig(baseUrl: string, maxResults: number): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Per-tenant bearer token issued with `lanyard token issue <tenant>`.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

const RESOURCE_TYPES = [
  {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: CORE_USER,
    schemaExtensions: [
      { schema: ENTERPRISE_USER, required: false },
      { schema: LANYARD_ACCESS, required: false },
    ],
  },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: CORE_GROUP, schemaExtensions: [] },
];

export function resourceType(baseUrl: string, id: string): Record<string, unknown> | undefined {
  const found = RESOURCE_TYPES.find((t) => t.id.toLowerCase() === id.toLowerCase());
  if (!found) return undefined;
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    ...found,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${found.id}` },
  };
}

/** Users first: Microsoft's conformance suite reads `Resources[0]` as the User type. */
export function resourceTypes(baseUrl: string): Record<string, unknown> {
  return listOf(RESOURCE_TYPES.map((t) => resourceType(baseUrl, t.id)!));
}

export function schema(baseUrl: string, id: string): Record<string, unknown> | undefined {
  const found = schemaDefinitions().find((d) => d.id.toLowerCase() === id.toLowerCase());
  return found?.describe(`${baseUrl}/Schemas`);
}

export function schemas(baseUrl: string): Record<string, unknown> {
  return listOf(schemaDefinitions().map((d) => d.describe(`${baseUrl}/Schemas`)));
}

function listOf(resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}
