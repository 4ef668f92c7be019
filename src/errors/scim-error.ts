/** `scimType` values of RFC 7644 §3.12, table 9. */
export const SCIM_TYPES = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

/**
 * An error the SCIM endpoint answers with, rendered once (by the SCIM error middleware) as an RFC 7644
 * §3.12 body. `detail` is shown to the client, so it never carries secrets or other tenants' data.
 */
export class ScimError extends Error {
  override readonly name = 'ScimError';

  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
    /** Extra response headers, e.g. `WWW-Authenticate` on 401 or `Retry-After` on 503. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

export function isScimError(err: unknown): err is ScimError {
  return err instanceof Error && err.name === 'ScimError' && typeof (err as ScimError).status === 'number';
}
