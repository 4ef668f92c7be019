import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatIssuePath } from '../errors/config-error.js';
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
  policy.emergency?.packages.forEach((pkg, i) => {
    if (!policy.packages[pkg]) errors.push(new ConfigError(`emergency.packages[${i}]`, `unknown access package "${pkg}"`));
  });
  // A package that needs approval must have someone who can give it.
  for (const [pkgName, pkg] of Object.entries(policy.packages)) {
    if (pkg.approval !== 'required') continue;
    const route = pkg.approvers ?? policy.approvals.approvers;
    const someone = route.includes('sponsor') || (route.includes('tenant') && policy.approvals.tenantApprovers.length > 0) || (route.includes('msp') && policy.approvals.mspApprovers.length > 0);
    if (!someone) errors.push(new ConfigError(`packages.${pkgName}`, `needs approval, but nobody can approve it (approvers: ${route.join(', ')}; the lists under approvals are empty)`));
  }
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
