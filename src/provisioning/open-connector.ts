import type { Connector, ConnectorDeps } from '../../connectors/kit/contract.js';
import { DomainError } from '../errors/domain-error.js';
import type { ConnectorRecord } from '../store/connectors-store.js';
import { open } from '../tenants/secret-box.js';
import { joinSecrets } from '../tenants/secret-fields.js';
import { CONNECTOR_KINDS } from './connector-registry.js';

/** Binds a sealed secret to its tenant and connector, so a sealed value cannot be moved to another. */
export function connectorSecretOwner(tenantId: string, name: string): string {
  return `${tenantId}/connector/${name}`;
}

/**
 * A live connector from its stored record: secrets unsealed in memory only, the configuration checked
 * again by its kind (a build may have tightened the schema since the record was written).
 */
export function openConnector(record: ConnectorRecord, tenantId: string, masterKey: Buffer, deps: ConnectorDeps): Connector {
  const kind = CONNECTOR_KINDS.get(record.kind);
  if (!kind) throw new DomainError('invalid_input', `connector "${record.name}" is of kind "${record.kind}", which this build does not know`);
  const secrets = record.secrets
    ? (JSON.parse(open(record.secrets, masterKey, connectorSecretOwner(tenantId, record.name))) as Record<string, unknown>)
    : {};
  return kind.create(kind.configSchema.parse(joinSecrets(record.config, secrets)), deps);
}
