/**
 * The allow-list of attributes a SCIM filter, `sortBy` or value path may name, and where each one lives in
 * SQL. Built once per resource type from the scimmy schema definitions (see `../resource-catalogs.ts`);
 * anything not in a catalog is refused with `invalidFilter` rather than matched loosely.
 */
export type ScimAttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'binary'
  | 'complex';

/** Where an attribute's value is read from, relative to the resource row aliased `r`. */
export type AttributeStorage =
  /**
   * A typed column: `sql` is an expression such as `r.user_name` or `r.created_at`. `folded` names a column
   * holding `lower(sql)`, for case-insensitive attributes: row-level security keeps PostgreSQL from using an
   * index on `lower(column)` (lower() is not leakproof), but it can use one on a plain column.
   */
  | { kind: 'column'; sql: string; folded?: string }
  /** A key path inside the row's `r.doc` JSONB document, e.g. `['name', 'givenName']`. */
  | { kind: 'json'; path: readonly string[] };

export interface AttributeSpec {
  /** The name as the schema spells it (`givenName`). */
  name: string;
  type: ScimAttributeType;
  multiValued: boolean;
  caseExact: boolean;
  /** Sub-attributes of a complex attribute, keyed by lower-cased name. */
  subAttributes?: Readonly<Record<string, AttributeSpec>>;
  /**
   * Present on top-level attributes only. Sub-attributes of a single-valued complex attribute live at the
   * parent's JSON path plus their own name; sub-attributes of a multi-valued one are read from each element.
   */
  storage?: AttributeStorage;
}

export interface SchemaAttributes {
  /** Schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`. */
  urn: string;
  /** Top-level attributes, keyed by lower-cased name. */
  attributes: Readonly<Record<string, AttributeSpec>>;
}

export interface ResourceCatalog {
  /** The core schema: an unqualified attribute name is looked up here. */
  core: SchemaAttributes;
  /** Extension schemas: `urn:…:User:department` resolves through these (URN matched case-insensitively). */
  extensions: readonly SchemaAttributes[];
}
