/**
 * The in-process "downstream system" behind the memory connector: accounts with an enabled flag and a set of
 * granted entitlements. Namespaces are process-wide, so a test or benchmark can look at what a connector did.
 */
export interface MemoryAccount {
  userName: string;
  enabled: boolean;
  grants: Set<string>;
}

export interface MemoryDownstream {
  accounts: Map<string, MemoryAccount>;
  /**
   * How many times each effect was made (`create:<account>`, `grant:<account>:<entitlement>`, …): a
   * benchmark checks that no effect happened twice where once was enough.
   */
  effects: Map<string, number>;
}

const downstreams = new Map<string, MemoryDownstream>();

export function memoryDownstream(namespace: string): MemoryDownstream {
  let downstream = downstreams.get(namespace);
  if (!downstream) {
    downstream = { accounts: new Map(), effects: new Map() };
    downstreams.set(namespace, downstream);
  }
  return downstream;
}

export function countEffect(downstream: MemoryDownstream, effect: string): void {
  downstream.effects.set(effect, (downstream.effects.get(effect) ?? 0) + 1);
}
