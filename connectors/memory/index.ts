import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError } from '../kit/connector-error.js';
import type { Connector, ConnectorKind } from '../kit/contract.js';
import { countEffect, memoryDownstream } from './client.js';
import { type MemoryConfig, memoryConfigSchema } from './config.js';

/**
 * The worked example of the connector contract, and the connector benchmarks use: a downstream that lives
 * in the process. Never used to prove a real connector; those are tested against their real systems.
 */
export const memoryConnector: ConnectorKind<MemoryConfig> = {
  kind: 'memory',
  configSchema: memoryConfigSchema,
  secretFields: [],
  create(config): Connector {
    const downstream = memoryDownstream(config.namespace);
    const known = new Set(config.entitlements);
    const pause = () => (config.latencyMs > 0 ? sleep(config.latencyMs) : Promise.resolve());
    const account = (id: string) => {
      const found = downstream.accounts.get(id);
      if (!found) throw new ConnectorError('not_found', `no account "${id}"`);
      return found;
    };
    const entitlement = (id: string) => {
      if (!known.has(id)) throw new ConnectorError('not_found', `no entitlement "${id}"`);
    };
    return {
      async verify() {
        await pause();
      },
      accounts: {
        async ensure(desired) {
          await pause();
          // The account is keyed by Lanyard's user id: the same user always maps to the same account.
          const id = `lanyard-${desired.userId}`;
          const existing = downstream.accounts.get(id);
          if (existing && existing.enabled && existing.userName === desired.userName) return { result: 'unchanged', value: { id } };
          if (existing) {
            existing.enabled = true;
            existing.userName = desired.userName;
            countEffect(downstream, `enable:${id}`);
          } else {
            downstream.accounts.set(id, { userName: desired.userName, enabled: true, grants: new Set() });
            countEffect(downstream, `create:${id}`);
          }
          return { result: 'changed', value: { id } };
        },
        async disable(ref) {
          await pause();
          const found = account(ref.id);
          if (!found.enabled) return { result: 'unchanged', value: undefined };
          found.enabled = false;
          countEffect(downstream, `disable:${ref.id}`);
          return { result: 'changed', value: undefined };
        },
        async remove(ref) {
          await pause();
          return { result: downstream.accounts.delete(ref.id) ? 'changed' : 'unchanged', value: undefined };
        },
      },
      entitlements: {
        async list() {
          return config.entitlements.map((id) => ({ id }));
        },
        async grant(ref, id) {
          await pause();
          entitlement(id);
          const found = account(ref.id);
          if (found.grants.has(id)) return { result: 'unchanged', value: undefined };
          found.grants.add(id);
          countEffect(downstream, `grant:${ref.id}:${id}`);
          return { result: 'changed', value: undefined };
        },
        async revoke(ref, id) {
          await pause();
          entitlement(id);
          const found = downstream.accounts.get(ref.id);
          if (!found?.grants.delete(id)) return { result: 'unchanged', value: undefined };
          countEffect(downstream, `revoke:${ref.id}:${id}`);
          return { result: 'changed', value: undefined };
        },
        async grantsOf(ref) {
          return [...account(ref.id).grants];
        },
      },
    };
  },
};
