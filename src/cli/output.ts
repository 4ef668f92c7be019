import { ConfigError } from '../errors/config-error.js';
import { isDomainError } from '../errors/domain-error.js';
import { isInfrastructureFailure } from '../errors/infrastructure.js';

/** Exit statuses: distinct per error code so scripts can branch without parsing messages. */
export const EXIT = {
  ok: 0,
  failure: 1,
  invalid_input: 2,
  not_found: 3,
  conflict: 4,
  limit_reached: 5,
  forbidden: 6,
  unavailable: 69,
  invalid_config: 78,
} as const;

export interface Output {
  json: boolean;
}

export function print(out: Output, human: string, data: unknown): void {
  process.stdout.write(out.json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** Errors go to stderr (as JSON with --json) and map to an exit status; stack traces only for bugs. */
export function fail(out: Output, err: unknown): number {
  let code: keyof typeof EXIT = 'failure';
  let message = 'unexpected error';
  if (isDomainError(err)) {
    code = err.code;
    message = err.message;
  } else if (err instanceof ConfigError) {
    code = 'invalid_config';
    message = err.message;
  } else if (isInfrastructureFailure(err)) {
    code = 'unavailable';
    message = `cannot reach a backing service: ${(err as Error).message}`;
  } else if (err instanceof Error) {
    message = err.message;
  }
  process.stderr.write(out.json ? `${JSON.stringify({ error: { code, message } })}\n` : `lanyard: ${message}\n`);
  if (code === 'failure' && err instanceof Error && process.env['LOG_LEVEL'] === 'debug') process.stderr.write(`${err.stack}\n`);
  return EXIT[code];
}
