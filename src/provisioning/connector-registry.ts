import type { ConnectorKind } from '../../connectors/kit/contract.js';
import { memoryConnector } from '../../connectors/memory/index.js';
import { postgresConnector } from '../../connectors/postgres/index.js';
import { scimConnector } from '../../connectors/scim/index.js';

/** Every connector kind this build knows, by the name `--kind` takes. */
export const CONNECTOR_KINDS: ReadonlyMap<string, ConnectorKind<unknown>> = new Map(
  [memoryConnector, postgresConnector, scimConnector].map((kind) => [kind.kind, kind as ConnectorKind<unknown>]),
);
