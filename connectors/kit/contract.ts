/**
 * The connector contract: what Lanyard asks of every downstream system it provisions into. Types only.
 *
 * Every mutation names a desired end state and may be repeated: a call that finds the state already there
 * answers `unchanged`, never an error, because delivery is at least once and a job may run again after a
 * crash. Failures are `ConnectorError`s with a closed code (./connector-error.ts), which alone decides
 * whether the work is retried.
 */
import type { ZodType } from 'zod';

export interface ConnectorDeps {
  log: { debug(obj: object, msg?: string): void; info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Aborts in-flight calls when the worker shuts down. */
  signal?: AbortSignal;
}

/** One kind of downstream system (`postgres`, `scim`, …); a tenant's connector is a configured instance. */
export interface ConnectorKind<Config> {
  kind: string;
  /** Validates a connector's configuration; the inferred type is what `create` receives. */
  configSchema: ZodType<Config>;
  /**
   * Dotted paths of the configuration's secret fields (`auth.token`): encrypted at rest, never printed,
   * logged or put in job data.
   */
  secretFields: readonly string[];
  create(config: Config, deps: ConnectorDeps): Connector;
}

/** The account Lanyard wants a user to have downstream. */
export interface DesiredAccount {
  /** Lanyard's user id: connectors derive their own stable names from it or from `userName`. */
  userId: string;
  userName: string;
  displayName?: string;
  email?: string;
}

/** How the downstream system knows the account; stored by Lanyard and handed back on later calls. */
export interface AccountRef {
  id: string;
}

export interface OpContext {
  /** Stable across retries of the same operation, for downstreams that deduplicate requests. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/** `changed` when the call altered the downstream system, `unchanged` when the state was already there. */
export type Outcome<T = void> = { result: 'changed' | 'unchanged'; value: T };

export interface Entitlement {
  /** Stable id used in policy files, e.g. `role:analyst_ro` or `group:Viewers`. */
  id: string;
  description?: string;
}

export interface Connector {
  /** Checks reachability and credentials ("test connection"); resolves when both are good. */
  verify(): Promise<void>;

  /** Present when the downstream system has accounts of its own to create and disable. */
  accounts?: {
    /** Creates the account or brings an existing one (one Lanyard created) up to date, and enables it. */
    ensure(account: DesiredAccount, ctx: OpContext): Promise<Outcome<AccountRef>>;
    /** Disables sign-in and keeps the account; a second call is `unchanged`. */
    disable(ref: AccountRef, ctx: OpContext): Promise<Outcome>;
    /** Deletes the account; removing one that is gone is `unchanged`. Optional: some systems never delete. */
    remove?(ref: AccountRef, ctx: OpContext): Promise<Outcome>;
  };

  entitlements: {
    /** What this connector can grant. */
    list(): Promise<Entitlement[]>;
    /** Grants one entitlement; granting a held one is `unchanged`. */
    grant(ref: AccountRef, entitlement: string, ctx: OpContext): Promise<Outcome>;
    /** Revokes one entitlement; revoking one not held is `unchanged`. */
    revoke(ref: AccountRef, entitlement: string, ctx: OpContext): Promise<Outcome>;
    /** What the account holds now, for drift checks. Optional. */
    grantsOf?(ref: AccountRef): Promise<string[]>;
  };

  /**
   * When the account was last active downstream, for inactivity rules. Present only where the downstream
   * can report it (for some kinds, only when configured to); a connector that cannot know leaves it out.
   * Reads only.
   * - A date: the latest activity the downstream reports now. Some downstreams forget (postgres sees only
   *   open sessions), so a later answer may be older or `null`: callers keep the latest they have observed.
   * - `null`: the downstream has no record of any activity of this account that it can report (never used,
   *   or nothing it keeps now). What that means for the account is the caller's to decide.
   * - Never `null` for "could not tell": an account that is not there or not Lanyard's, missing privileges,
   *   an unreachable downstream and an unreadable answer are thrown as ConnectorErrors.
   */
  lastActivity?(ref: AccountRef): Promise<Date | null>;

  /** Releases connections and timers. */
  close?(): Promise<void>;
}
