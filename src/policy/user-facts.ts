import { INTAKE_ATTRIBUTES, type IntakeAttribute, type PolicyDocument } from './policy-schema.js';

export const LANYARD_ACCESS_URN = 'urn:lanyard:scim:schemas:extension:access:1.0:User';

/** What policy evaluation knows of a user: nothing else about the user can influence access. */
export interface UserFacts {
  id: string;
  userName: string;
  active: boolean;
  /** Intake attributes present on the user (after the policy's `intake.from` mapping). */
  intake: Partial<Record<IntakeAttribute, string>>;
  /** Reads any other attribute a rule may test, by name or SCIM path (case-insensitive). */
  attribute(path: string): string | undefined;
}

/**
 * Reads a stored SCIM user document. Intake attributes come from the Lanyard extension, or, where it has
 * none, from where the policy maps them (`intake.from: { organization: urn:…:enterprise:2.0:User:organization }`).
 * Pure.
 */
export function userFacts(
  user: { id: string; userName: string; active: boolean; doc: Record<string, unknown> },
  intake: PolicyDocument['intake'],
): UserFacts {
  const attribute = (path: string) => readPath(user.doc, path);
  const facts: Partial<Record<IntakeAttribute, string>> = {};
  for (const key of INTAKE_ATTRIBUTES) {
    const from = intake.from[key];
    const value = [attribute(`${LANYARD_ACCESS_URN}:${key}`), from ? attribute(from) : undefined].find((v) => v !== undefined && v.trim() !== '');
    if (value !== undefined) facts[key] = value.trim();
  }
  return { id: user.id, userName: user.userName, active: user.active, intake: facts, attribute };
}

/**
 * A single string value at a SCIM path: `title`, `name.givenName`, `urn:…:User:department`,
 * `urn:…:User:manager.value`. Multi-valued and complex values are not conditions a policy can test.
 */
function readPath(doc: Record<string, unknown>, path: string): string | undefined {
  let container: unknown = doc;
  let rest = path;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    const urn = path.slice(0, colon).toLowerCase();
    const key = Object.keys(doc).find((k) => k.toLowerCase() === urn);
    if (key === undefined) {
      if (urn !== 'urn:ietf:params:scim:schemas:core:2.0:user') return undefined;
    } else {
      container = doc[key];
    }
    rest = path.slice(colon + 1);
  }
  for (const part of rest.split('.')) {
    if (!container || typeof container !== 'object' || Array.isArray(container)) return undefined;
    const key = Object.keys(container).find((k) => k.toLowerCase() === part.toLowerCase());
    container = key === undefined ? undefined : (container as Record<string, unknown>)[key];
  }
  if (typeof container === 'string') return container;
  if (typeof container === 'number' || typeof container === 'boolean') return String(container);
  return undefined;
}
