/**
 * The closed set of outcomes an operator-facing service (CLI, admin API) can refuse with. Each code maps to
 * one exit status on the CLI and one HTTP status on the admin API; branch on `code`, not on the class,
 * because errors cross process boundaries.
 */
export const DOMAIN_ERROR_CODES = ['not_found', 'conflict', 'invalid_input', 'limit_reached', 'forbidden'] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof Error && err.name === 'DomainError' && DOMAIN_ERROR_CODES.includes((err as DomainError).code);
}
