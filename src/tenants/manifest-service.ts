import { isAbsolute, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { formatIssuePath } from '../errors/config-error.js';
import { DomainError } from '../errors/domain-error.js';
import { loadPolicy } from '../policy/load-policy.js';
import { CONNECTOR_KINDS } from '../provisioning/connector-registry.js';
import type { ConnectorService } from '../provisioning/connector-service.js';
import type { PolicyService } from '../provisioning/policy-service.js';
import { resolveReferences } from './manifest-references.js';
import { type Manifest, manifestSchema } from './manifest-schema.js';
import { type CurrentTenantState, type DesiredTenantState, type ManifestStep, planManifest } from './manifest-plan.js';
import { scimBaseUrl } from './tenant.js';
import type { TenantService } from './tenant-service.js';
import type { TokenService } from './token-service.js';

/** The services a manifest is applied through: the same ones the CLI commands use. */
export interface ManifestDeps {
  publicBaseUrl: string;
  tenants: TenantService;
  tokens: TokenService;
  connectors: ConnectorService;
  policies: PolicyService;
}

export interface ManifestSource {
  text: string;
  /** Where relative `file` references (secrets, the policy) are read from. */
  baseDir: string;
  /** Where `env` references are read from. */
  env: Record<string, string | undefined>;
  /** Reads a referenced file (a secret, the policy), given its resolved path; throws an error with a `code` when it cannot. */
  readFile(path: string): string;
}

export interface ManifestResult {
  slug: string;
  steps: ManifestStep[];
  applied: boolean;
  scimBaseUrl: string;
  /** A SCIM token, issued (and shown) only when the apply created the tenant. */
  token?: { id: string; token: string; expiresAt: Date };
}

/**
 * One-file onboarding: a manifest describes a tenant (name, contract end, connectors, policy) and applying
 * it brings the tenant to that description, idempotently: what already matches is left alone, so applying
 * the same file twice changes nothing the second time. The plan is computed first and is all a dry run
 * does. Connectors the manifest does not name are left alone (removing one is a deliberate act).
 *
 * The steps run one after the other, each in its own transaction through the same services as the CLI;
 * a step that fails leaves the earlier ones done, and applying again finishes the rest.
 */
export class ManifestService {
  constructor(private readonly rt: ManifestDeps) {}

  /** `opts.slug`: the tenant the caller means (the admin API's path); a manifest describing another is refused. */
  async apply(source: ManifestSource, opts: { dryRun: boolean; slug?: string }, actor: string): Promise<ManifestResult> {
    const manifest = parseManifest(source.text);
    if (opts.slug !== undefined && manifest.tenant.slug !== opts.slug) {
      throw new DomainError('invalid_input', `tenant.slug: the manifest describes tenant "${manifest.tenant.slug}", not "${opts.slug}"`);
    }
    const desired = this.desired(manifest, source);
    const current = await this.current(manifest.tenant.slug);
    const steps = planManifest(current, desired);
    const result: ManifestResult = { slug: desired.slug, steps, applied: false, scimBaseUrl: scimBaseUrl(this.rt.publicBaseUrl, desired.slug) };
    if (opts.dryRun) return result;

    for (const step of steps) {
      switch (step.action) {
        case 'create-tenant': {
          await this.rt.tenants.create({ slug: desired.slug, name: desired.name }, actor);
          const issued = await this.rt.tokens.issue(desired.slug, {}, actor);
          result.token = { id: issued.id, token: issued.token, expiresAt: issued.expiresAt };
          break;
        }
        case 'rename-tenant':
          await this.rt.tenants.rename(desired.slug, desired.name, actor);
          break;
        case 'set-contract-end':
          await this.rt.tenants.setContractEnd(desired.slug, desired.contractEndsAt, actor);
          break;
        case 'add-connector':
        case 'update-connector': {
          const c = desired.connectors.find((x) => x.name === step.name)!;
          const input = { name: c.name, kind: c.kind, config: c.config, onDelete: c.onDelete as 'remove' | 'disable' };
          if (step.action === 'add-connector') await this.rt.connectors.add(desired.slug, input, actor);
          else await this.rt.connectors.update(desired.slug, input, actor);
          break;
        }
        case 'apply-policy':
          await this.rt.policies.apply(desired.slug, desired.policySource!, actor);
          break;
      }
    }
    result.applied = true;
    return result;
  }

  /** The manifest with every reference resolved and every configuration validated by its kind. */
  private desired(manifest: Manifest, source: ManifestSource): DesiredTenantState {
    const problems: string[] = [];
    const connectors = manifest.connectors.flatMap((c, i) => {
      const at = `connectors[${i}]`;
      const kind = CONNECTOR_KINDS.get(c.kind);
      if (!kind) {
        problems.push(`${at}.kind: "${c.kind.slice(0, 64)}" is not one of ${[...CONNECTOR_KINDS.keys()].join(', ')}`);
        return [];
      }
      try {
        const resolved = resolveReferences(c.config, kind.secretFields, `${at}.config`, { env: source.env, readFile: source.readFile, baseDir: source.baseDir });
        const parsed = kind.configSchema.safeParse(resolved);
        if (!parsed.success) {
          // Paths only: a value may be a secret.
          problems.push(...parsed.error.issues.map((issue) => `${at}.config.${formatIssuePath(issue.path) || '(root)'}: ${issue.message}`));
          return [];
        }
        return [{ name: c.name, kind: c.kind, config: parsed.data as Record<string, unknown>, onDelete: c.onDelete }];
      } catch (err) {
        problems.push((err as Error).message);
        return [];
      }
    });
    const names = manifest.connectors.map((c) => c.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) problems.push(`connectors[${i}].name: "${n}" appears twice`);
    });
    let policySource: string | null = null;
    if (manifest.policy) {
      if ('inline' in manifest.policy) {
        policySource = manifest.policy.inline;
      } else {
        const file = isAbsolute(manifest.policy.file) ? manifest.policy.file : join(source.baseDir, manifest.policy.file);
        try {
          policySource = source.readFile(file);
        } catch (err) {
          problems.push(`policy.file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        }
      }
      if (policySource !== null) {
        const loaded = loadPolicy(policySource);
        if (!loaded.ok) problems.push(...loaded.errors.map((e) => `policy: ${e.message}`));
      }
    }
    if (problems.length) throw new DomainError('invalid_input', `the manifest is not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    return {
      slug: manifest.tenant.slug,
      name: manifest.tenant.name ?? manifest.tenant.slug,
      contractEndsAt: manifest.tenant.contractEnd ? new Date(/T/.test(manifest.tenant.contractEnd) ? manifest.tenant.contractEnd : `${manifest.tenant.contractEnd}T00:00:00Z`) : null,
      connectors,
      policySource,
    };
  }

  private async current(slug: string): Promise<CurrentTenantState> {
    const tenant = await this.rt.tenants.get(slug).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'not_found') return null;
      throw err;
    });
    if (!tenant) return { exists: false, name: null, contractEndsAt: null, connectors: new Map(), policySource: null, policyVersion: 0 };
    const [connectors, policy] = await Promise.all([this.rt.connectors.currentConfigs(slug), this.rt.policies.show(slug)]);
    return { exists: true, name: tenant.name, contractEndsAt: tenant.contractEndsAt, connectors, policySource: policy?.source ?? null, policyVersion: policy?.version ?? 0 };
  }
}

/** YAML syntax, then the schema; every problem named by its path (and line for syntax). */
function parseManifest(text: string): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length) {
    throw new DomainError('invalid_input', `the manifest is not valid:\n${doc.errors.map((e) => `  line ${lines.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`).join('\n')}`);
  }
  const parsed = manifestSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new DomainError('invalid_input', `the manifest is not valid:\n${parsed.error.issues.map((i) => `  ${formatIssuePath(i.path) || '(document)'}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
