/**
 * The sample User catalog the filter compiler's tests (`to-sql.test.ts`, `to-sql.pg.test.ts`) compile against,
 * with an extra `acme` extension for integer and decimal attributes.
 */
import type { AttributeSpec, AttributeStorage, ResourceCatalog, ScimAttributeType } from '../../src/scim/filter/catalog.js';

/** Schema URNs of the sample catalog's core and extension attributes. */
export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const ACME = 'urn:example:scim:schemas:extension:acme:1.0:User';

export function spec(name: string, type: ScimAttributeType, extra: Partial<AttributeSpec> = {}): AttributeSpec {
  return { name, type, multiValued: false, caseExact: false, ...extra };
}

function keyed(...specs: AttributeSpec[]): Record<string, AttributeSpec> {
  return Object.fromEntries(specs.map((s) => [s.name.toLowerCase(), s]));
}

export const json = (...path: string[]): AttributeStorage => ({ kind: 'json', path });
const column = (sql: string): AttributeStorage => ({ kind: 'column', sql });

/** A User catalog shaped like the real one; `meta` is JSON unless `metaColumns` maps its parts to columns. */
export function userCatalog(metaColumns = false): ResourceCatalog {
  const created = spec('created', 'dateTime', metaColumns ? { storage: column('r.created_at') } : {});
  const lastModified = spec('lastModified', 'dateTime', metaColumns ? { storage: column('r.updated_at') } : {});
  return {
    core: {
      urn: CORE,
      attributes: keyed(
        spec('id', 'string', { caseExact: true, storage: column('r.id::text') }),
        spec('externalId', 'string', { caseExact: true, storage: column('r.external_id') }),
        spec('userName', 'string', { storage: column('r.user_name') }),
        spec('active', 'boolean', { storage: column('r.active') }),
        spec('displayName', 'string', { storage: json('displayName') }),
        spec('title', 'string', { storage: json('title') }),
        spec('profileUrl', 'reference', { storage: json('profileUrl') }),
        spec('schemas', 'reference', { multiValued: true, caseExact: true, storage: json('schemas') }),
        spec('meta', 'complex', {
          storage: json('meta'),
          subAttributes: keyed(created, lastModified, spec('resourceType', 'string', { caseExact: true })),
        }),
        spec('name', 'complex', {
          storage: json('name'),
          subAttributes: keyed(spec('givenName', 'string'), spec('familyName', 'string'), spec('formatted', 'string')),
        }),
        spec('emails', 'complex', {
          multiValued: true,
          storage: json('emails'),
          subAttributes: keyed(
            spec('value', 'string'),
            spec('type', 'string'),
            spec('primary', 'boolean'),
            spec('display', 'string'),
          ),
        }),
      ),
    },
    extensions: [
      {
        urn: ENTERPRISE,
        attributes: keyed(
          spec('employeeNumber', 'string', { storage: json(ENTERPRISE, 'employeeNumber') }),
          spec('department', 'string', { storage: json(ENTERPRISE, 'department') }),
          spec('manager', 'complex', {
            storage: json(ENTERPRISE, 'manager'),
            subAttributes: keyed(spec('value', 'string', { caseExact: true }), spec('displayName', 'string')),
          }),
        ),
      },
      {
        urn: ACME,
        attributes: keyed(
          spec('clearance', 'integer', { storage: json(ACME, 'clearance') }),
          spec('rating', 'decimal', { storage: json(ACME, 'rating') }),
        ),
      },
    ],
  };
}
