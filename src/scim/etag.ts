import { ScimError } from '../errors/scim-error.js';

/** `meta.version` and the ETag header: weak, because the representation varies with `attributes`. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/**
 * RFC 7232 If-Match against the stored version: absent or `*` passes; otherwise one of the listed tags must
 * name the current version (weak comparison, so `"3"` and `W/"3"` are the same).
 */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined || header.trim() === '*') return;
  const wanted = String(version);
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//i, '').replace(/^"|"$/g, ''));
  if (!tags.includes(wanted)) {
    throw new ScimError(412, undefined, `the resource has changed: its version is ${etagOf(version)}`);
  }
}
