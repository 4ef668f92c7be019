import type { AttributeSpec, ResourceCatalog, SchemaAttributes, ScimAttributeType } from './filter/catalog.js';
import { CORE_GROUP, CORE_USER, SCIMMY } from './schemas.js';

interface ScimmyAttribute {
  name: string;
  type: string;
  config: { multiValued?: boolean; caseExact?: boolean; returned?: string | boolean };
  subAttributes?: ScimmyAttribute[];
}

type Column = { sql: string; folded?: string };

/** Attributes kept in typed columns rather than in the JSON document, for indexes and exact types. */
const USER_COLUMNS: Record<string, Column> = {
  id: { sql: 'r.id::text' },
  externalid: { sql: 'r.external_id' },
  username: { sql: 'r.user_name', folded: 'r.user_name_folded' },
  active: { sql: 'r.active' },
};
const GROUP_COLUMNS: Record<string, Column> = {
  id: { sql: 'r.id::text' },
  externalid: { sql: 'r.external_id' },
  displayname: { sql: 'r.display_name', folded: 'r.display_name_folded' },
};

/** Never filterable or sortable: secrets, and attributes Lanyard derives instead of storing. */
const EXCLUDED = new Set(['password', 'groups', 'members', 'schemas', 'x509certificates']);

function toSpec(attr: ScimmyAttribute, storage?: AttributeSpec['storage']): AttributeSpec {
  const spec: AttributeSpec = {
    name: attr.name,
    type: attr.type as ScimAttributeType,
    multiValued: Boolean(attr.config.multiValued),
    caseExact: Boolean(attr.config.caseExact),
  };
  if (storage) spec.storage = storage;
  if (attr.subAttributes?.length) {
    spec.subAttributes = Object.fromEntries(attr.subAttributes.map((sub) => [sub.name.toLowerCase(), toSpec(sub)]));
  }
  return spec;
}

function schemaAttributes(
  urn: string,
  attributes: ScimmyAttribute[],
  columns: Record<string, Column>,
  jsonRoot: string[],
): SchemaAttributes {
  const entries: [string, AttributeSpec][] = [];
  for (const attr of attributes) {
    const key = attr.name.toLowerCase();
    if (EXCLUDED.has(key)) continue;
    if (key === 'meta') {
      entries.push([key, metaSpec()]);
      continue;
    }
    const column = columns[key];
    const storage: AttributeSpec['storage'] = column ? { kind: 'column', ...column } : { kind: 'json', path: [...jsonRoot, attr.name] };
    entries.push([key, toSpec(attr, storage)]);
  }
  return { urn, attributes: Object.fromEntries(entries) };
}

function metaSpec(): AttributeSpec {
  const dateTime = (name: string, sql: string): AttributeSpec => ({
    name,
    type: 'dateTime',
    multiValued: false,
    caseExact: false,
    storage: { kind: 'column', sql },
  });
  return {
    name: 'meta',
    type: 'complex',
    multiValued: false,
    caseExact: false,
    storage: { kind: 'json', path: ['meta'] },
    subAttributes: {
      created: dateTime('created', 'r.created_at'),
      lastmodified: dateTime('lastModified', 'r.updated_at'),
    },
  };
}

interface ScimmyDefinition {
  id: string;
  attributes: (ScimmyAttribute | ScimmyDefinition)[];
}
interface SchemaWithExtensions {
  definition: ScimmyDefinition;
}

function isDefinition(attr: ScimmyAttribute | ScimmyDefinition): attr is ScimmyDefinition {
  return attr instanceof SCIMMY.Types.SchemaDefinition;
}

function catalogFor(resource: SchemaWithExtensions, coreUrn: string, columns: Record<string, Column>): ResourceCatalog {
  const core: ScimmyAttribute[] = [];
  const extensions: SchemaAttributes[] = [];
  for (const attr of resource.definition.attributes) {
    // scimmy lists an extension among a resource's attributes as a nested schema definition.
    if (isDefinition(attr)) {
      const own = attr.attributes.filter((a): a is ScimmyAttribute => !isDefinition(a));
      extensions.push(schemaAttributes(attr.id, own, {}, [attr.id]));
    } else {
      core.push(attr);
    }
  }
  return { core: schemaAttributes(coreUrn, core, columns, []), extensions };
}

let cache: { user: ResourceCatalog; group: ResourceCatalog } | undefined;

/** Built after `configureScimmy`, so the User catalog includes the extensions. */
export function resourceCatalogs(): { user: ResourceCatalog; group: ResourceCatalog } {
  cache ??= {
    user: catalogFor(SCIMMY.Schemas.User as unknown as SchemaWithExtensions, CORE_USER, USER_COLUMNS),
    group: catalogFor(SCIMMY.Schemas.Group as unknown as SchemaWithExtensions, CORE_GROUP, GROUP_COLUMNS),
  };
  return cache;
}
