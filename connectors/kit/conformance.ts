/**
 * The one conformance suite every connector's tests run against a real downstream: repeat calls answer
 * `unchanged`, end states hold, and failures are ConnectorErrors. Call it from a connector's test file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectorError } from './connector-error.js';
import type { AccountRef, Connector, DesiredAccount, OpContext } from './contract.js';

export interface DownstreamView {
  exists: boolean;
  enabled: boolean;
  grants: string[];
}

export interface ConformanceTarget {
  connector: Connector;
  /** Two entitlements the downstream can grant. */
  entitlements: [string, string];
  /** An entitlement id that does not exist downstream. */
  unknownEntitlement: string;
  /** A new account, unique to this run. */
  newAccount(): DesiredAccount;
  /** Reads the downstream directly, not through the connector: the evidence the connector really acted. */
  inspect(ref: AccountRef): Promise<DownstreamView>;
  teardown?(): Promise<void>;
}

let seq = 0;
function ctx(): OpContext {
  return { idempotencyKey: `conformance-${process.pid}-${++seq}` };
}

export function connectorConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  describe(`${name}: connector conformance`, () => {
    let target: ConformanceTarget;
    beforeAll(async () => {
      target = await setup();
    });
    afterAll(async () => {
      await target?.teardown?.();
      await target?.connector.close?.();
    });

    it('verifies its connection', async () => {
      await expect(target.connector.verify()).resolves.toBeUndefined();
    });

    it('lists what it can grant', async () => {
      const ids = (await target.connector.entitlements.list()).map((e) => e.id);
      expect(ids).toEqual(expect.arrayContaining(target.entitlements));
    });

    it('ensure, grant, revoke and disable are each safe to repeat', async () => {
      const { connector } = target;
      const [first, second] = target.entitlements;
      const account = target.newAccount();
      let ref: AccountRef;
      if (connector.accounts) {
        const created = await connector.accounts.ensure(account, ctx());
        expect(created.result).toBe('changed');
        const again = await connector.accounts.ensure(account, ctx());
        expect(again).toEqual({ result: 'unchanged', value: created.value });
        ref = created.value;
        expect(await target.inspect(ref)).toMatchObject({ exists: true, enabled: true, grants: [] });
      } else {
        ref = { id: account.userName };
      }

      expect((await connector.entitlements.grant(ref, first, ctx())).result).toBe('changed');
      expect((await connector.entitlements.grant(ref, first, ctx())).result).toBe('unchanged');
      expect((await connector.entitlements.grant(ref, second, ctx())).result).toBe('changed');
      expect((await target.inspect(ref)).grants.sort()).toEqual([first, second].sort());
      if (connector.entitlements.grantsOf) expect((await connector.entitlements.grantsOf(ref)).sort()).toEqual([first, second].sort());

      expect((await connector.entitlements.revoke(ref, first, ctx())).result).toBe('changed');
      expect((await connector.entitlements.revoke(ref, first, ctx())).result).toBe('unchanged');
      expect((await target.inspect(ref)).grants).toEqual([second]);

      if (connector.accounts) {
        expect((await connector.accounts.disable(ref, ctx())).result).toBe('changed');
        expect((await connector.accounts.disable(ref, ctx())).result).toBe('unchanged');
        expect(await target.inspect(ref)).toMatchObject({ exists: true, enabled: false });
        // Ensuring again is how a re-activated user gets the account back.
        expect((await connector.accounts.ensure(account, ctx())).result).toBe('changed');
        expect(await target.inspect(ref)).toMatchObject({ exists: true, enabled: true });
        if (connector.accounts.remove) {
          expect((await connector.accounts.remove(ref, ctx())).result).toBe('changed');
          expect((await connector.accounts.remove(ref, ctx())).result).toBe('unchanged');
          expect((await target.inspect(ref)).exists).toBe(false);
        }
      }
    });

    it('revoking what was never granted is unchanged', async () => {
      const account = target.newAccount();
      const ref = target.connector.accounts ? (await target.connector.accounts.ensure(account, ctx())).value : { id: account.userName };
      expect((await target.connector.entitlements.revoke(ref, target.entitlements[0], ctx())).result).toBe('unchanged');
    });

    it('fails with a ConnectorError for an entitlement the downstream does not have', async () => {
      const account = target.newAccount();
      const ref = target.connector.accounts ? (await target.connector.accounts.ensure(account, ctx())).value : { id: account.userName };
      const failure = await target.connector.entitlements.grant(ref, target.unknownEntitlement, ctx()).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isConnectorError(failure), String(failure)).toBe(true);
    });
  });
}
