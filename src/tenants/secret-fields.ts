/**
 * Splits a configuration into what may be shown and stored in clear, and its secret fields (dotted paths
 * such as `auth.token`), and joins them back. Pure.
 */
export function splitSecrets(config: Record<string, unknown>, paths: readonly string[]): { open: Record<string, unknown>; secrets: Record<string, unknown> } {
  const open = structuredClone(config);
  const secrets: Record<string, unknown> = {};
  for (const path of paths) {
    const keys = path.split('.');
    let parent: Record<string, unknown> | undefined = open;
    for (const key of keys.slice(0, -1)) {
      const next: unknown = parent?.[key];
      parent = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : undefined;
    }
    const last = keys[keys.length - 1]!;
    if (parent && last in parent) {
      secrets[path] = parent[last];
      delete parent[last];
    }
  }
  return { open, secrets };
}

export function joinSecrets(open: Record<string, unknown>, secrets: Record<string, unknown>): Record<string, unknown> {
  const config = structuredClone(open);
  for (const [path, value] of Object.entries(secrets)) {
    const keys = path.split('.');
    let parent = config;
    for (const key of keys.slice(0, -1)) {
      if (!parent[key] || typeof parent[key] !== 'object') parent[key] = {};
      parent = parent[key] as Record<string, unknown>;
    }
    parent[keys[keys.length - 1]!] = value;
  }
  return config;
}

/** The configuration as an operator may see it: secret fields present but masked. */
export function maskSecrets(open: Record<string, unknown>, secretPaths: readonly string[]): Record<string, unknown> {
  return joinSecrets(open, Object.fromEntries(secretPaths.map((p) => [p, '[encrypted]'])));
}
