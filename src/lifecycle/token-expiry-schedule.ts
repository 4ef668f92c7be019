import type pg from 'pg';
import type { Logger } from '../log/logger.js';
import { expiringTokens } from '../store/status-store.js';
import type { Schedule } from './schedules.js';

/**
 * A SCIM token expiring within this window is flagged (`lanyard status`, the token gauges) and warned
 * about in the logs: two weeks leaves time to issue the next token and move the identity provider to it.
 */
export const TOKEN_EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;
/** Daily: the window is two weeks, so every token is warned about on many days before it expires. */
const EVERY_MS = 24 * 60 * 60 * 1000;

/**
 * Logs a warning per tenant whose SCIM tokens in force expire within {@link TOKEN_EXPIRY_WARNING_MS}: once
 * the last one expires, the tenant's identity provider is refused and its changes stop arriving.
 */
export function tokenExpirySchedule(deps: { pool: pg.Pool; log: Logger; everyMs?: number }): Schedule {
  const { pool, log } = deps;
  return {
    id: 'token-expiry-warning',
    everyMs: deps.everyMs ?? EVERY_MS,
    async run() {
      const tenants = await expiringTokens(pool, TOKEN_EXPIRY_WARNING_MS);
      for (const t of tenants) {
        log.warn(
          { tenant: t.slug, tenantId: t.tenantId, expiring: t.expiring, nextExpiry: t.nextExpiry.toISOString() },
          'SCIM token(s) expire within 14 days: issue a new one (lanyard token issue) and move the identity provider to it',
        );
      }
      return { tenants: tenants.length };
    },
  };
}
