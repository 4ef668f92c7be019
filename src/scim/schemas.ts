import SCIMMY from 'scimmy';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LANYARD_ACCESS = 'urn:lanyard:scim:schemas:extension:access:1.0:User';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const ERROR_MESSAGE = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Extension URNs a User may carry, in the order they are rendered. */
export const USER_EXTENSIONS = [ENTERPRISE_USER, LANYARD_ACCESS] as const;

/**
 * The intake attributes a partner user carries before any access is granted (see DESIGN.md). scimmy only
 * accepts schema ids under `urn:ietf:params:scim:schemas:`, so the definition is built under a placeholder
 * id and renamed; nothing else in scimmy 1.3.5 (pinned) checks the prefix.
 */
function lanyardAccessDefinition(): InstanceType<typeof SCIMMY.Types.SchemaDefinition> {
  const { Attribute, SchemaDefinition } = SCIMMY.Types;
  const definition = new SchemaDefinition(
    'LanyardAccess',
    'urn:ietf:params:scim:schemas:extension:lanyard-placeholder:1.0:User',
    'Lanyard partner-access intake attributes',
    [
      new Attribute('string', 'organization', { description: 'Organisation the user belongs to.' }),
      new Attribute('string', 'sponsor', {
        description: 'userName or id of the user in the same tenant who is accountable for this user.',
      }),
      new Attribute('string', 'useCase', { description: 'Why this user needs access.' }),
      new Attribute('string', 'dataScope', { description: 'The data this user may see, e.g. a region or client.' }),
      new Attribute('dateTime', 'accessEndDate', { description: 'When every access of this user ends.' }),
    ],
  );
  (definition as { id: string }).id = LANYARD_ACCESS;
  return definition;
}

let configured = false;
let lanyardAccess: ReturnType<typeof lanyardAccessDefinition> | undefined;

/**
 * scimmy keeps schema extensions and its configuration in module state. They are the same for every tenant,
 * so they are set once per process; nothing per-tenant (base URLs, data) is kept there.
 */
export function configureScimmy(): void {
  if (configured) return;
  configured = true;
  // scimmy's typings miss that extend() takes a SchemaDefinition, which is what its docs describe.
  SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser.definition as never, false);
  lanyardAccess = lanyardAccessDefinition();
  SCIMMY.Schemas.User.extend(lanyardAccess as never, false);
  // PatchOp consults this; the discovery document itself is built per request (discovery.ts).
  SCIMMY.Config.set({ patch: { supported: true } });
}

interface Describable {
  id: string;
  describe(basepath?: string): Record<string, unknown>;
}

/** Every schema the service speaks, in the order `/Schemas` lists them. */
export function schemaDefinitions(): Describable[] {
  if (!lanyardAccess) throw new Error('configureScimmy must run first');
  return [
    SCIMMY.Schemas.User.definition,
    SCIMMY.Schemas.EnterpriseUser.definition,
    lanyardAccess,
    SCIMMY.Schemas.Group.definition,
  ] as unknown as Describable[];
}

export { SCIMMY };
