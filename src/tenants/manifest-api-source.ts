import { readFileSync, realpathSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import { envSchema } from '../config/schema.js';
import type { ManifestSource } from './manifest-service.js';

/** Lanyard's own settings: never a connector's secret, whoever writes the manifest. */
const OWN_SETTINGS = new Set(Object.keys(envSchema.shape));

class UnreadableReference extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/**
 * Where a manifest sent to the admin API takes its references from. Unlike the CLI's, which runs as the
 * operator on the operator's files, these are the server's: `{ file }` references are read only inside
 * ADMIN_MANIFEST_DIR (refused when it is unset), and `{ env }` references never reach the service's own
 * settings (the master key, the database URL…), which a connector could otherwise carry to a downstream
 * of the caller's choosing.
 */
export function apiManifestSource(text: string, manifestDir: string | undefined, env: NodeJS.ProcessEnv = process.env): ManifestSource {
  return {
    text,
    baseDir: manifestDir ?? '/nonexistent',
    env: Object.fromEntries(Object.entries(env).filter(([name]) => !OWN_SETTINGS.has(name))),
    readFile(path) {
      if (!manifestDir) throw new UnreadableReference('file references need ADMIN_MANIFEST_DIR on the server');
      let real: string;
      let root: string;
      try {
        root = realpathSync(manifestDir);
        real = realpathSync(path);
      } catch (err) {
        throw new UnreadableReference((err as NodeJS.ErrnoException).code ?? 'error');
      }
      const inside = relative(root, real);
      if (!inside || inside.startsWith('..') || isAbsolute(inside)) throw new UnreadableReference('outside ADMIN_MANIFEST_DIR');
      return readFileSync(real, 'utf8');
    },
  };
}
