import { z } from 'zod';
import { ScimError } from '../errors/scim-error.js';
import { lowerKeys } from './attribute-names.js';
import { PATCH_OP } from './schemas.js';

export const PATCH_OPS = ['add', 'remove', 'replace'] as const;
export type PatchOpName = (typeof PATCH_OPS)[number];

export interface PatchOperation {
  op: PatchOpName;
  path: string | undefined;
  value: unknown;
}

/** Large enough for an IdP's biggest batch (Okta sends up to 1,000 member changes), small enough to bound work. */
const MAX_OPERATIONS = 1000;

const operationSchema = z
  .object({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() })
  .passthrough();

/**
 * Reads a PatchOp message (RFC 7644 §3.5.2). Operation names are accepted in any case, because Entra sends
 * `Replace`; the message and operation member names are matched case-insensitively for the same reason.
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'the request body must be a PatchOp message');
  }
  const top = lowerKeys(body as Record<string, unknown>);
  const schemas = top['schemas'];
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP)) {
    throw new ScimError(400, 'invalidSyntax', `schemas must contain "${PATCH_OP}"`);
  }
  const operations = top['operations'];
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new ScimError(400, 'invalidSyntax', 'Operations must be a non-empty array');
  }
  if (operations.length > MAX_OPERATIONS) {
    throw new ScimError(400, 'tooMany', `at most ${MAX_OPERATIONS} operations per request`);
  }
  return operations.map((raw, index) => {
    const parsed = operationSchema.safeParse(raw && typeof raw === 'object' ? lowerKeys(raw as Record<string, unknown>) : raw);
    if (!parsed.success) throw new ScimError(400, 'invalidSyntax', `Operations[${index}]: expected an object with a string "op"`);
    const op = parsed.data.op.toLowerCase();
    if (!(PATCH_OPS as readonly string[]).includes(op)) {
      throw new ScimError(400, 'invalidSyntax', `Operations[${index}].op: "${parsed.data.op.slice(0, 40)}" is not add, remove or replace`);
    }
    const path = parsed.data.path?.trim() ? parsed.data.path.trim() : undefined;
    if (op !== 'remove' && parsed.data.value === undefined) {
      throw new ScimError(400, 'invalidValue', `Operations[${index}]: "${op}" needs a value`);
    }
    if (op === 'remove' && !path && parsed.data.value === undefined) {
      throw new ScimError(400, 'noTarget', `Operations[${index}]: "remove" needs a path`);
    }
    return { op: op as PatchOpName, path, value: parsed.data.value };
  });
}

export interface PatchPath {
  /** Extension URN when the path is qualified by one (canonical spelling), else undefined. */
  urn: string | undefined;
  /** Attribute name as written. */
  attr: string;
  /** Inside `[...]`, as written. */
  filter: string | undefined;
  /** After the `.`, as written. */
  sub: string | undefined;
}

/** Splits `urn:…:User:manager`, `emails[type eq "work"].value`, `name.givenName` into their parts. */
export function splitPatchPath(path: string, coreUrn: string, extensionUrns: readonly string[]): PatchPath {
  let rest = path;
  let urn: string | undefined;
  const lower = path.toLowerCase();
  const ext = extensionUrns.find((u) => lower.startsWith(`${u.toLowerCase()}:`));
  if (ext) {
    urn = ext;
    rest = path.slice(ext.length + 1);
  } else if (lower.startsWith(`${coreUrn.toLowerCase()}:`)) {
    rest = path.slice(coreUrn.length + 1);
  }
  const match = /^([^.[\]]+)(?:\[(.*)\])?(?:\.([^.[\]]+))?$/.exec(rest);
  if (!match) throw new ScimError(400, 'invalidPath', `path "${path.slice(0, 100)}" is not a valid attribute path`);
  return { urn, attr: match[1]!, filter: match[2], sub: match[3] };
}
