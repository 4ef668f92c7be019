import type { ConnectorKind } from '../../connectors/kit/contract.js';
import { memoryConnector } from '../../connectors/memory/index.js';
import { postgresConnector } from '../../connectors/postgres/index.js';

/** Every connector kind this build knows, by the name `--kind` takes. */
export const CONNECTOR_KINDS: ReadonlyMap<string, ConnectorKind<unknown>> = new Map(
  [memoryConnector, postgresConnector].map((kind) => [kind.kind, kind as ConnectorKind<unknown>]),
);
