import type { PatchOperation } from '../../src/scim/patch-request.js';

/** A parsed PATCH operation, as `parsePatchRequest` would return it. */
export function op(o: PatchOperation['op'], path: string | undefined, value?: unknown): PatchOperation {
  return { op: o, path, value };
}
