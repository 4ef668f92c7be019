import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { formatDuration } from '../config/duration.js';
import { DomainError } from '../errors/domain-error.js';
import { countActiveTokens, insertToken, listTokens, revokeToken, type ScimTokenRecord } from '../store/scim-tokens-store.js';
import { isUuid } from '../store/transaction.js';
import { mintToken } from './scim-token.js';
import { inTenantBySlug } from './tenant-service.js';

/** Two, so a client can put a new token in place before the old one is revoked. */
export const MAX_ACTIVE_TOKENS = 2;

export interface IssuedToken {
  /** The bearer token. It exists only in this value: Lanyard keeps its hash. */
  token: string;
  id: string;
  expiresAt: Date;
}

export type TokenState = 'active' | 'expired' | 'revoked';

export interface TokenSummary extends ScimTokenRecord {
  state: TokenState;
}

export class TokenService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: { defaultTtlMs: number; maxTtlMs: number },
  ) {}

  async issue(slug: string, opts: { ttlMs?: number | undefined }, actor: string): Promise<IssuedToken> {
    const ttlMs = opts.ttlMs ?? this.limits.defaultTtlMs;
    if (ttlMs > this.limits.maxTtlMs) {
      throw new DomainError('invalid_input', `ttl: at most ${formatDuration(this.limits.maxTtlMs)} (SCIM_TOKEN_MAX_TTL)`);
    }
    // The tenant row lock serialises issuers, so two concurrent issues cannot both pass the limit.
    return inTenantBySlug(this.pool, slug, async (db, tenant) => {
      if (tenant.status !== 'active') throw new DomainError('conflict', `tenant "${slug}" is ${tenant.status}`);
      if ((await countActiveTokens(db, tenant.id)) >= MAX_ACTIVE_TOKENS) {
        throw new DomainError(
          'limit_reached',
          `tenant "${slug}" already has ${MAX_ACTIVE_TOKENS} active tokens; revoke one first (lanyard token list ${slug})`,
        );
      }
      const minted = mintToken(randomUUID());
      const record = await insertToken(db, {
        id: minted.id,
        tenantId: tenant.id,
        secretHash: minted.secretHash,
        createdBy: actor,
        expiresAt: new Date(Date.now() + ttlMs),
      });
      recordAuditEvent(db, tenant.id, {
        actor,
        action: 'scim_token.issued',
        resourceType: 'scim_token',
        resourceId: record.id,
        detail: { expiresAt: record.expiresAt.toISOString() },
      });
      return { token: minted.token, id: record.id, expiresAt: record.expiresAt };
    }, { lock: true });
  }

  async list(slug: string): Promise<TokenSummary[]> {
    return inTenantBySlug(
      this.pool,
      slug,
      async (db, tenant) => {
        const now = Date.now();
        return (await listTokens(db, tenant.id)).map((t) => ({
          ...t,
          state: t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : 'active',
        }));
      },
      { readOnly: true },
    );
  }

  async revoke(slug: string, tokenId: string, actor: string): Promise<'revoked' | 'already_revoked'> {
    if (!isUuid(tokenId)) throw new DomainError('not_found', `no token "${tokenId}" in tenant "${slug}"`);
    return inTenantBySlug(this.pool, slug, async (db, tenant) => {
      const outcome = await revokeToken(db, tenant.id, tokenId, actor);
      if (outcome === 'not_found') throw new DomainError('not_found', `no token "${tokenId}" in tenant "${slug}"`);
      if (outcome === 'revoked') {
        recordAuditEvent(db, tenant.id, {
          actor,
          action: 'scim_token.revoked',
          resourceType: 'scim_token',
          resourceId: tokenId,
        });
      }
      return outcome;
    });
  }
}
