import { ScimError } from '../../errors/scim-error.js';
import type { UserWrite } from '../../store/users-store.js';
import { coerceResource } from '../coerce-input.js';
import type { ResourceCatalog } from '../filter/catalog.js';
import { toStoredDocument } from '../resource-document.js';
import { CORE_USER, SCIMMY } from '../schemas.js';

/**
 * Turns a POST or PUT body into what is stored. scimmy checks it against the User schema (with the
 * enterprise and Lanyard extensions), normalises attribute-name case and drops unknown attributes and
 * read-only ones such as `id` and `meta` (RFC 7643 §2.2: ignored when a client sends them).
 */
export function validateUser(body: unknown, catalog: ResourceCatalog): UserWrite {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'the request body must be a JSON object');
  }
  const schemas = (body as { schemas?: unknown }).schemas;
  if (Array.isArray(schemas) && schemas.length > 0 && !schemas.includes(CORE_USER)) {
    throw new ScimError(400, 'invalidSyntax', `schemas must include "${CORE_USER}"`);
  }
  let validated: unknown;
  try {
    // The schema definition's own coercion is the whole of scimmy's validation; a Schema instance would
    // run it twice more through per-attribute setters, at three times the cost on the busiest path.
    validated = SCIMMY.Schemas.User.definition.coerce(coerceResource(body as Record<string, unknown>, catalog), 'in');
  } catch (err) {
    throw asSchemaViolation(err);
  }
  return userWriteFrom(JSON.parse(JSON.stringify(validated)) as Record<string, unknown>);
}

/**
 * scimmy reports a body that breaks the schema with a plain TypeError naming the attribute (never its
 * value); that is the client's mistake, so it becomes 400 `invalidValue`.
 */
export function asSchemaViolation(err: unknown): unknown {
  if (err instanceof TypeError) return new ScimError(400, 'invalidValue', err.message);
  return err;
}

/** Builds the row fields from a validated document; an absent `active` means active. */
export function userWriteFrom(validated: Record<string, unknown>): UserWrite {
  const doc = toStoredDocument(validated);
  const userName = typeof doc['userName'] === 'string' ? doc['userName'].trim() : '';
  if (!userName) throw new ScimError(400, 'invalidValue', 'userName is required and cannot be empty');
  if (doc['active'] === undefined) doc['active'] = true;
  return {
    userName: doc['userName'] as string,
    externalId: typeof doc['externalId'] === 'string' ? doc['externalId'] : null,
    active: doc['active'] === true,
    doc,
  };
}
