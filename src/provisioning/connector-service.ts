import type pg from 'pg';
import type { Connector, Entitlement } from '../../connectors/kit/contract.js';
import { isConnectorError } from '../../connectors/kit/connector-error.js';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { formatIssuePath } from '../errors/config-error.js';
import { DomainError } from '../errors/domain-error.js';
import type { Logger } from '../log/logger.js';
import { type ConnectorRecord, connectorUsage, deleteConnector, findConnector, insertConnector, listConnectors, type OnDelete, updateConnector } from '../store/connectors-store.js';
import type { Queryable } from '../store/pool.js';
import { open as openSealed, seal } from '../tenants/secret-box.js';
import { joinSecrets, maskSecrets, splitSecrets } from '../tenants/secret-fields.js';
import { inTenantBySlug } from '../tenants/tenant-service.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import { currentPolicy } from '../store/policy-store.js';
import { CONNECTOR_KINDS } from './connector-registry.js';
import { connectorSecretOwner, openConnector } from './open-connector.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface ConnectorInput {
  name: string;
  kind: string;
  config: unknown;
  onDelete?: OnDelete;
}

export interface ConnectorSummary {
  name: string;
  kind: string;
  /** The configuration with every secret field shown as `[encrypted]`. */
  config: Record<string, unknown>;
  onDelete: OnDelete;
  createdBy: string;
  createdAt: Date;
}

/** Registering a tenant's connectors and talking to them on an operator's behalf. */
export class ConnectorService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly masterKey: Buffer,
    private readonly log: Logger,
  ) {}

  /**
   * Validates the configuration with the kind's own schema, seals its secret fields, and stores it. Errors
   * name the configuration path but never repeat a value, since a value may be a secret.
   */
  async add(slug: string, input: ConnectorInput, actor: string): Promise<ConnectorSummary> {
    const { kind, clear, secrets, secretPaths } = this.validate(input);
    return inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const sealed = secretPaths.length ? seal(JSON.stringify(secrets), this.masterKey, connectorSecretOwner(tenant.id, input.name)) : null;
      const onDelete = input.onDelete ?? 'remove';
      const record = await insertConnector(db, tenant.id, { name: input.name, kind: kind.kind, config: clear, secrets: sealed, secretPaths, onDelete, createdBy: actor });
      if (!record) throw new DomainError('conflict', `tenant "${slug}" already has a connector "${input.name}"`);
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'connector.added',
        resourceType: 'connector',
        resourceId: input.name,
        attributes: Object.keys(clear).concat(secretPaths).sort(),
        detail: { kind: kind.kind, onDelete },
      });
      return summary(record);
    });
  }

  /** Replaces a connector's configuration and on-delete setting; its kind cannot change. */
  async update(slug: string, input: ConnectorInput, actor: string): Promise<ConnectorSummary> {
    const { kind, clear, secrets, secretPaths } = this.validate(input);
    return inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const current = await findConnector(db, tenant.id, input.name);
      if (!current) throw new DomainError('not_found', `tenant "${slug}" has no connector "${input.name}"`);
      if (current.kind !== kind.kind) throw new DomainError('conflict', `connector "${input.name}" is of kind ${current.kind}, not ${kind.kind}; a kind cannot change`);
      const sealed = secretPaths.length ? seal(JSON.stringify(secrets), this.masterKey, connectorSecretOwner(tenant.id, input.name)) : null;
      const onDelete = input.onDelete ?? 'remove';
      const record = (await updateConnector(db, tenant.id, { name: input.name, config: clear, secrets: sealed, secretPaths, onDelete }))!;
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'connector.updated',
        resourceType: 'connector',
        resourceId: input.name,
        attributes: Object.keys(clear).concat(secretPaths).sort(),
        detail: { kind: kind.kind, onDelete },
      });
      return summary(record);
    });
  }

  /**
   * The stored configuration of every connector of the tenant, secrets opened: for comparing with a
   * manifest inside this process only. Never print it.
   */
  async currentConfigs(slug: string): Promise<Map<string, { kind: string; config: Record<string, unknown>; onDelete: OnDelete }>> {
    return this.read(slug, async (db, tenantId) => {
      const records = await listConnectors(db, tenantId);
      return new Map(
        records.map((r) => {
          const secrets = r.secretPaths.length ? (JSON.parse(openSealed(r.secrets, this.masterKey, connectorSecretOwner(tenantId, r.name))) as Record<string, unknown>) : {};
          return [r.name, { kind: r.kind, config: joinSecrets(r.config, secrets), onDelete: r.onDelete }];
        }),
      );
    });
  }

  private validate(input: ConnectorInput) {
    if (!NAME.test(input.name)) throw new DomainError('invalid_input', `name: expected lower-case letters, digits and "-", got "${input.name.slice(0, 64)}"`);
    const kind = CONNECTOR_KINDS.get(input.kind);
    if (!kind) throw new DomainError('invalid_input', `kind: "${input.kind.slice(0, 64)}" is not one of ${[...CONNECTOR_KINDS.keys()].join(', ')}`);
    const parsed = kind.configSchema.safeParse(input.config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `config.${formatIssuePath(i.path) || '(root)'}: ${i.message}`);
      throw new DomainError('invalid_input', problems.join('\n'));
    }
    const { open: clear, secrets } = splitSecrets(parsed.data as Record<string, unknown>, kind.secretFields);
    return { kind, clear, secrets, secretPaths: Object.keys(secrets) };
  }

  async list(slug: string): Promise<ConnectorSummary[]> {
    return this.read(slug, async (db, tenantId) => (await listConnectors(db, tenantId)).map(summary));
  }

  /** Checks reachability and credentials of a registered connector. */
  async test(slug: string, name: string): Promise<void> {
    await this.withConnector(slug, name, (connector) => connector.verify());
  }

  /** Like `test`, but a downstream that refuses is an answer, not an error: the admin API reports it as one. */
  async check(slug: string, name: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    const outcome = await this.withConnector(slug, name, async (connector) => {
      try {
        await connector.verify();
        return { ok: true as const };
      } catch (err) {
        if (isConnectorError(err)) return { ok: false as const, code: err.code, message: err.message };
        throw err;
      }
    });
    return outcome;
  }

  /**
   * Removes a connector that holds nothing and never did. One with accounts or grants on record stays, since
   * those records name it: take it out of the policy instead, and the pipeline revokes what it held.
   */
  async remove(slug: string, name: string, actor: string): Promise<void> {
    await inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const record = await findConnector(db, tenant.id, name);
      if (!record) throw new DomainError('not_found', `tenant "${slug}" has no connector "${name}"`);
      const policy = await currentPolicy(db, tenant.id);
      const packages = Object.entries((policy?.document as PolicyDocument | undefined)?.packages ?? {}).filter(([, p]) => name in p.entitlements).map(([id]) => id);
      if (packages.length) throw new DomainError('conflict', `connector "${name}" is used by the policy in force (packages ${packages.join(', ')}); apply a policy without it first`);
      const { grants, accounts } = await connectorUsage(db, tenant.id, name);
      if (grants || accounts) {
        throw new DomainError('conflict', `connector "${name}" has ${grants} grant(s) and ${accounts} account(s) on record, kept as evidence; it stays registered, unused`);
      }
      await deleteConnector(db, tenant.id, name);
      recordAuditEvent(db, tenant.id, { actor, action: 'connector.removed', resourceType: 'connector', resourceId: name, detail: { kind: record.kind } });
    }, { lock: true });
  }

  async entitlements(slug: string, name: string): Promise<Entitlement[]> {
    return this.withConnector(slug, name, (connector) => connector.entitlements.list());
  }

  private async withConnector<T>(slug: string, name: string, work: (connector: Connector) => Promise<T>): Promise<T> {
    const { record, tenantId } = await this.read(slug, async (db, id) => ({ record: await findConnector(db, id, name), tenantId: id }));
    if (!record) throw new DomainError('not_found', `tenant "${slug}" has no connector "${name}"`);
    const connector = openConnector(record, tenantId, this.masterKey, { log: this.log.child({ tenant: slug, connector: name }) });
    try {
      return await work(connector);
    } catch (err) {
      // What an operator sees: the closed code and its message, which connectors keep free of secrets.
      if (isConnectorError(err)) throw new DomainError('invalid_input', `connector "${name}": ${err.code}: ${err.message}`);
      throw err;
    } finally {
      await connector.close?.();
    }
  }

  private read<T>(slug: string, work: (db: Queryable, tenantId: string) => Promise<T>): Promise<T> {
    return inTenantBySlug(this.pool, slug, (db, tenant) => work(db, tenant.id), { readOnly: true });
  }
}

function summary(record: ConnectorRecord): ConnectorSummary {
  return { name: record.name, kind: record.kind, config: maskSecrets(record.config, record.secretPaths), onDelete: record.onDelete, createdBy: record.createdBy, createdAt: record.createdAt };
}
