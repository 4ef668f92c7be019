import { randomUUID } from 'node:crypto';
import { connectorConformance } from '../kit/conformance.js';
import { memoryDownstream } from './client.js';
import { memoryConnector } from './index.js';

const namespace = `conformance-${randomUUID()}`;
const log = { debug() {}, info() {}, warn() {} };

connectorConformance('memory', async () => {
  const config = memoryConnector.configSchema.parse({ namespace, entitlements: ['role:reader', 'role:writer'] });
  return {
    connector: memoryConnector.create(config, { log }),
    entitlements: ['role:reader', 'role:writer'],
    unknownEntitlement: 'role:nope',
    newAccount: () => {
      const id = randomUUID();
      return { userId: id, userName: `${id}@example.com` };
    },
    async inspect(ref) {
      const account = memoryDownstream(namespace).accounts.get(ref.id);
      return { exists: Boolean(account), enabled: account?.enabled ?? false, grants: [...(account?.grants ?? [])] };
    },
  };
});
