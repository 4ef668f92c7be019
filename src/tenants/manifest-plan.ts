/** What applying a manifest changes, step by step; computed before anything is changed. Pure. */
export type ManifestStep =
  | { action: 'create-tenant'; slug: string; name: string }
  | { action: 'rename-tenant'; from: string; to: string }
  | { action: 'set-contract-end'; from: string | null; to: string | null }
  | { action: 'add-connector'; name: string; kind: string }
  | { action: 'update-connector'; name: string; changed: string[] }
  | { action: 'apply-policy'; version: number };

export interface CurrentTenantState {
  exists: boolean;
  name: string | null;
  contractEndsAt: Date | null;
  connectors: Map<string, { kind: string; config: Record<string, unknown>; onDelete: string }>;
  policySource: string | null;
  policyVersion: number;
}

export interface DesiredTenantState {
  slug: string;
  name: string;
  contractEndsAt: Date | null;
  connectors: { name: string; kind: string; config: Record<string, unknown>; onDelete: string }[];
  policySource: string | null;
}

export function planManifest(current: CurrentTenantState, desired: DesiredTenantState): ManifestStep[] {
  const steps: ManifestStep[] = [];
  if (!current.exists) steps.push({ action: 'create-tenant', slug: desired.slug, name: desired.name });
  else if (current.name !== desired.name) steps.push({ action: 'rename-tenant', from: current.name ?? '', to: desired.name });
  if ((current.contractEndsAt?.getTime() ?? null) !== (desired.contractEndsAt?.getTime() ?? null)) {
    steps.push({ action: 'set-contract-end', from: current.contractEndsAt?.toISOString() ?? null, to: desired.contractEndsAt?.toISOString() ?? null });
  }
  for (const c of desired.connectors) {
    const now = current.connectors.get(c.name);
    if (!now) {
      steps.push({ action: 'add-connector', name: c.name, kind: c.kind });
      continue;
    }
    // Which top-level keys differ; the values are not shown, since some are secrets.
    const keys = new Set([...Object.keys(now.config), ...Object.keys(c.config)]);
    const changed = [...keys].filter((k) => JSON.stringify(now.config[k]) !== JSON.stringify(c.config[k])).sort();
    if (now.onDelete !== c.onDelete) changed.push('onDelete');
    if (now.kind !== c.kind) changed.unshift('kind');
    if (changed.length) steps.push({ action: 'update-connector', name: c.name, changed });
  }
  if (desired.policySource !== null && desired.policySource !== current.policySource) steps.push({ action: 'apply-policy', version: current.policyVersion + 1 });
  return steps;
}

export function describeStep(step: ManifestStep): string {
  switch (step.action) {
    case 'create-tenant':
      return `create tenant ${step.slug} (${step.name})`;
    case 'rename-tenant':
      return `rename tenant "${step.from}" to "${step.to}"`;
    case 'set-contract-end':
      return `set contract end ${step.from ?? 'none'} → ${step.to ?? 'none'}`;
    case 'add-connector':
      return `add connector ${step.name} (${step.kind})`;
    case 'update-connector':
      return `update connector ${step.name}: ${step.changed.join(', ')}`;
    case 'apply-policy':
      return `apply policy as version ${step.version}`;
  }
}
