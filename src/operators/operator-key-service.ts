import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AuditEventInput } from '../audit/audit-event.js';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { formatDuration } from '../config/duration.js';
import { DomainError } from '../errors/domain-error.js';
import type { Logger } from '../log/logger.js';
import { appendAuditStatement, type PendingAuditEvent } from '../store/audit-append.js';
import { insertOperatorEvent } from '../store/operator-events-store.js';
import {
  findOperatorKey,
  insertOperatorKey,
  listOperatorKeys,
  lookupOperatorKey,
  operatorKeyTenantIds,
  type OperatorKeyRecord,
  revokeOperatorKey,
  touchOperatorKey,
} from '../store/operator-keys-store.js';
import { enterTenant, findTenantBySlug } from '../store/tenants-store.js';
import { inTx, isUuid, type Tx } from '../store/transaction.js';
import { secretMatches } from '../tenants/scim-token.js';
import { tenantSlugSchema } from '../tenants/tenant.js';
import { type Operator, operatorKeyNameSchema, operatorRoleSchema } from './operator.js';
import { mintOperatorKey, parseOperatorKey } from './operator-key.js';

/** Last use is recorded at most this often per key: a write per request would cost more than it tells. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreatedOperatorKey {
  /** The API key. It exists only in this value: Lanyard keeps its hash. */
  key: string;
  record: OperatorKeyRecord;
}

export type OperatorKeyState = 'active' | 'expired' | 'revoked';

export interface OperatorKeySummary extends OperatorKeyRecord {
  state: OperatorKeyState;
}

export type KeyVerification = { ok: true; operator: Operator } | { ok: false; reason: 'invalid' | 'expired' | 'revoked' };

/**
 * Operator API keys: created with a role (and, for a tenant-admin, its tenants), listed, revoked, and
 * verified on each admin API request. Shared by the CLI and the admin API.
 *
 * Where their events go: every key operation is an MSP-level event in `operator_events` (append-only for
 * the service) and a log line, because keys of msp-admins and auditors belong to no tenant. A key scoped to
 * tenants is also an event in each of those tenants' hash chains, in the same transaction, so a tenant's
 * own evidence shows who was given administration over it and when that ended.
 */
export class OperatorKeyService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: { defaultTtlMs: number; maxTtlMs: number },
    private readonly log: Logger,
  ) {}

  async create(
    input: { name: string; role: string; tenants?: readonly string[] | undefined; ttlMs?: number | undefined },
    actor: string,
  ): Promise<CreatedOperatorKey> {
    const name = parse(operatorKeyNameSchema, input.name, 'name');
    const role = parse(operatorRoleSchema, input.role, 'role');
    const slugs = [...new Set(input.tenants ?? [])].map((slug) => parse(tenantSlugSchema, slug, 'tenant'));
    if (role === 'tenant-admin' && !slugs.length) throw new DomainError('invalid_input', 'tenant: a tenant-admin key needs at least one --tenant');
    if (role !== 'tenant-admin' && slugs.length) throw new DomainError('invalid_input', `tenant: a ${role} key spans every tenant; --tenant is for tenant-admin keys`);
    const ttlMs = input.ttlMs ?? this.limits.defaultTtlMs;
    if (ttlMs > this.limits.maxTtlMs) {
      throw new DomainError('invalid_input', `ttl: at most ${formatDuration(this.limits.maxTtlMs)} (OPERATOR_KEY_MAX_TTL)`);
    }

    const created = await inTx(this.pool, async (db) => {
      const tenants = [];
      for (const slug of slugs) {
        // Locked like every change to the tenant, so a key cannot be given a tenant being offboarded.
        const tenant = await findTenantBySlug(db, slug, { lock: true });
        if (!tenant) throw new DomainError('not_found', `no tenant "${slug}"`);
        if (tenant.status === 'offboarded') throw new DomainError('conflict', `tenant "${slug}" is offboarded`);
        tenants.push(tenant);
      }
      const minted = mintOperatorKey(randomUUID());
      await insertOperatorKey(db, {
        id: minted.id,
        name,
        role,
        tenantIds: tenants.map((t) => t.id),
        secretHash: minted.secretHash,
        createdBy: actor,
        ttlMs,
      });
      const record = (await findOperatorKey(db, minted.id))!;
      // A tenant's chain names the key, not the other tenants it administers: those are not its business.
      const detail = { keyId: record.id, name, role, expiresAt: record.expiresAt.toISOString() };
      await insertOperatorEvent(db, { actor, action: 'operator_key.created', resourceType: 'operator_key', resourceId: record.id, detail: { ...detail, tenants: record.tenants } });
      await recordInTenantChains(db, tenants.map((t) => t.id), { actor, action: 'operator_key.created', resourceType: 'tenant', detail });
      return { key: minted.key, record };
    });
    this.logEvent('operator_key.created', actor, created.record);
    return created;
  }

  async list(): Promise<OperatorKeySummary[]> {
    const now = Date.now();
    const keys = await inTx(this.pool, (db) => listOperatorKeys(db), { readOnly: true });
    return keys.map((k) => ({ ...k, state: keyState(k, now) }));
  }

  async revoke(id: string, actor: string): Promise<'revoked' | 'already_revoked'> {
    if (!isUuid(id)) throw new DomainError('not_found', `no operator key "${id.slice(0, 64)}"`);
    const outcome = await inTx(this.pool, async (db) => {
      const result = await revokeOperatorKey(db, id, actor);
      if (result === 'not_found') throw new DomainError('not_found', `no operator key "${id}"`);
      if (result === 'revoked') {
        const record = (await findOperatorKey(db, id))!;
        const detail = { keyId: id, name: record.name, role: record.role };
        await insertOperatorEvent(db, { actor, action: 'operator_key.revoked', resourceType: 'operator_key', resourceId: id, detail: { ...detail, tenants: record.tenants } });
        await recordInTenantChains(db, await operatorKeyTenantIds(db, id), { actor, action: 'operator_key.revoked', resourceType: 'tenant', detail });
        return { result, record };
      }
      return { result, record: null };
    });
    if (outcome.record) this.logEvent('operator_key.revoked', actor, outcome.record);
    return outcome.result;
  }

  /**
   * Checks a presented key. A malformed key, an unknown id and a wrong secret are all just `invalid`, so the
   * answer does not tell which ids exist; revoked and expired are told apart, since only the holder of the
   * secret can learn them.
   */
  async verify(presented: string): Promise<KeyVerification> {
    const parsed = parseOperatorKey(presented);
    if (!parsed) return { ok: false, reason: 'invalid' };
    const found = await lookupOperatorKey(this.pool, parsed.id);
    if (!found || !secretMatches(parsed.secret, found.secretHash)) return { ok: false, reason: 'invalid' };
    if (found.revokedAt) return { ok: false, reason: 'revoked' };
    if (found.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired' };
    if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Off the request path: a slow or failed bookkeeping write must not fail the operator's request.
      touchOperatorKey(this.pool, found.id, LAST_USED_RESOLUTION_MS).catch((err: unknown) =>
        this.log.warn({ err: { message: (err as Error).message }, operatorKeyId: found.id }, 'could not record operator key use'),
      );
    }
    return {
      ok: true,
      operator: { id: found.id, name: found.name, via: 'api-key', role: found.role, tenants: found.role === 'tenant-admin' ? found.tenants : 'all' },
    };
  }

  private logEvent(action: string, actor: string, key: OperatorKeyRecord): void {
    this.log.info({ event: action, actor, operatorKeyId: key.id, name: key.name, role: key.role, tenants: key.tenants }, action);
  }
}

function keyState(key: OperatorKeyRecord, now: number): OperatorKeyState {
  return key.revokedAt ? 'revoked' : key.expiresAt.getTime() <= now ? 'expired' : 'active';
}

/**
 * Appends one event to each tenant's chain now, rather than at commit as `Tx` does: the append runs under
 * row-level security, which lets a statement see one tenant only, so each tenant's event is appended with
 * that tenant entered. Tenants go in id order, the order every multi-tenant append locks chain heads in.
 */
async function recordInTenantChains(db: Tx, tenantIds: readonly string[], input: Omit<AuditEventInput, 'resourceId'>): Promise<void> {
  for (const tenantId of [...tenantIds].sort()) {
    const one: Tx = { pendingAudit: [] as PendingAuditEvent[], query: db.query };
    recordAuditEvent(one, tenantId, { ...input, resourceId: tenantId });
    await enterTenant(db, tenantId);
    await db.query(appendAuditStatement(one.pendingAudit));
  }
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new DomainError('invalid_input', `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}
