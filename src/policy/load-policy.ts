import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatIssuePath } from '../errors/config-error.js';
import { parseIsoDuration } from './iso-duration.js';
import { type PolicyDocument, policySchema } from './policy-schema.js';

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function shown(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? String(value);
  return ` (got ${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

export type PolicyLoad = { ok: true; policy: PolicyDocument } | { ok: false; errors: ConfigError[] };

/**
 * Reads a policy file: YAML syntax, then the schema, then, once the schema holds, the cross-references
 * (rules name packages that exist, packages use only declared connectors). Every problem of a stage is
 * reported at once, each naming its path and, where there is one, the offending value.
 */
export function loadPolicy(text: string): PolicyLoad {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => new ConfigError(`line ${lines.linePos(e.pos[0]).line}`, `YAML: ${e.message.split('\n')[0]}`)),
    };
  }
  const raw: unknown = doc.toJS();
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => new ConfigError(formatIssuePath(issue.path) || '(document)', `${issue.message}${shown(valueAt(raw, issue.path))}`)),
    };
  }
  const policy = parsed.data;
  const errors: ConfigError[] = [];
  policy.rules.forEach((rule, r) => {
    rule.grant.forEach((pkg, g) => {
      if (!policy.packages[pkg]) errors.push(new ConfigError(`rules[${r}].grant[${g}]`, `unknown access package "${pkg}"`));
    });
  });
  if (policy.connectors) {
    const declared = new Set(policy.connectors);
    for (const [pkgName, pkg] of Object.entries(policy.packages)) {
      for (const connector of Object.keys(pkg.entitlements)) {
        if (!declared.has(connector)) {
          errors.push(new ConfigError(`packages.${pkgName}.entitlements.${connector}`, `connector "${connector}" is not listed under connectors`));
        }
      }
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy };
}

/** The package's maximum duration, already validated by the schema. */
export function maxDurationOf(pkg: { maxDuration: string }) {
  const duration = parseIsoDuration(pkg.maxDuration);
  if (!duration) throw new Error(`unvalidated duration ${pkg.maxDuration}`);
  return duration;
}
