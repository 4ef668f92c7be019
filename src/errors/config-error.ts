/**
 * A configuration or input-file problem found before anything runs. `path` names exactly where: an
 * environment variable (`DATABASE_URL`) or a path into a file (`rules[2].grant[0]`).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** A validation path as a reader writes it: `rules[2].grant[0]`, `packages.crm-viewer.maxDuration`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}
