import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../errors/config-error.js';
import { DomainError } from '../errors/domain-error.js';
import { secretReferenceSchema } from './manifest-schema.js';

export interface ReferenceSources {
  env: Record<string, string | undefined>;
  /** Reads a file given relative to the manifest's directory (or absolute). */
  readFile(path: string): string;
  baseDir: string;
}

/**
 * Replaces every `{ env }` / `{ file }` reference in a connector configuration with its value, and checks
 * that every secret field (dotted paths) was given by reference. Every problem is reported at once, each
 * naming the manifest path and the variable or file, never a value.
 */
export function resolveReferences(config: Record<string, unknown>, secretFields: readonly string[], at: string, sources: ReferenceSources): Record<string, unknown> {
  const errors: ConfigError[] = [];
  const referenced = new Set<string>();
  const walk = (value: unknown, path: string[]): unknown => {
    const ref = secretReferenceSchema.safeParse(value);
    if (ref.success) {
      referenced.add(path.join('.'));
      const where = `${at}.${path.join('.')}`;
      if ('env' in ref.data) {
        const found = sources.env[ref.data.env];
        if (found === undefined || found === '') errors.push(new ConfigError(where, `environment variable ${ref.data.env} is not set`));
        return found;
      }
      const file = isAbsolute(ref.data.file) ? ref.data.file : join(sources.baseDir, ref.data.file);
      try {
        return sources.readFile(file).trim();
      } catch (err) {
        errors.push(new ConfigError(where, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`));
        return undefined;
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return value;
  };
  const resolved = walk(config, []) as Record<string, unknown>;
  for (const field of secretFields) {
    if (hasPath(config, field) && !referenced.has(field)) {
      errors.push(new ConfigError(`${at}.${field}`, 'a secret is given by reference ({ env: NAME } or { file: path }), never inline'));
    }
  }
  if (errors.length) throw new DomainError('invalid_input', errors.map((e) => e.message).join('\n'));
  return resolved;
}

function hasPath(config: Record<string, unknown>, dotted: string): boolean {
  let current: unknown = config;
  for (const key of dotted.split('.')) {
    if (!current || typeof current !== 'object' || !(key in current)) return false;
    current = (current as Record<string, unknown>)[key];
  }
  return true;
}
