import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../../audit/audit-event.js';
import { writeWithAudit } from '../../audit/record-audit-event.js';
import { ScimError } from '../../errors/scim-error.js';
import type { Queryable } from '../../store/pool.js';
import type { OnUsersMarked } from '../../store/reconcile-outbox.js';
import { inTenantTx, isUuid } from '../../store/transaction.js';
import {
  deleteUserStatement,
  findUser,
  findUserWithGroups,
  type GroupRef,
  insertUserStatement,
  toUserRecord,
  updateUserStatement,
  USER_COLUMNS,
  USER_GROUPS_COLUMN,
  type UserRecord,
  type UserRow,
  type UserRowWithGroups,
  type UserWrite,
} from '../../store/users-store.js';
import { checkIfMatch } from '../etag.js';
import type { ResourceCatalog } from '../filter/catalog.js';
import { listPage } from '../list-page.js';
import type { ListParams } from '../list-params.js';
import { parsePatchRequest } from '../patch-request.js';
import { changedAttributes } from '../resource-document.js';
import { PATCH_OP, SCIMMY } from '../schemas.js';
import { actorOf, type TenantContext } from '../tenant-context.js';
import { scimWrite } from '../scim-write.js';
import { normaliseUserPatch } from './normalise-user-patch.js';
import { asSchemaViolation, userWriteFrom, validateUser } from './validate-user.js';
import { markSponsoredUsers } from '../../store/sponsorships-store.js';
import type { Tx } from '../../store/transaction.js';

const UNIQUE = { users_user_name_key: 'userName is already taken in this tenant' };

/** Every user write can change what the user may hold, so each marks the user for reconciliation. */
const MARK = { markUser: true };
/** A new user holds nothing yet; any later write (deactivation above all) may take access away. */
const NEW_USER = { mayRevoke: false };
const MAY_REVOKE = { mayRevoke: true };

export interface UserWithGroups {
  user: UserRecord;
  groups: GroupRef[] | undefined;
}

/** The User resource of one tenant: every write is one transaction with its audit event. */
export class UserService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly catalog: ResourceCatalog,
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async create(ctx: TenantContext, body: unknown): Promise<UserRecord> {
    const write = validateUser(body, this.catalog);
    const id = randomUUID();
    return this.write(ctx, id, async (db, also) => {
      const [row] = await writeWithAudit<UserRow>(db, ctx.tenantId, insertUserStatement(ctx.tenantId, id, write), this.event(ctx, 'user.created', id, Object.keys(write.doc).sort()), MARK);
      // Users whose sponsor did not exist yet may be sponsored now.
      also.push(...(await markSponsoredUsers(db, ctx.tenantId, [write.userName], 'sponsor.created')));
      return toUserRecord(row!);
    }, NEW_USER);
  }

  async replace(ctx: TenantContext, id: string, body: unknown, ifMatch: string | undefined): Promise<UserRecord> {
    const write = validateUser(body, this.catalog);
    return this.write(ctx, id, async (db, also) => {
      const current = await this.lockUser(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      return this.saveIfChanged(db, ctx, current, write, 'user.replaced', also);
    });
  }

  /**
   * Applies a PatchOp atomically: the row is locked first, so concurrent PATCHes to one user apply one
   * after the other, each to the result of the last, and none is lost.
   */
  async patch(ctx: TenantContext, id: string, body: unknown, ifMatch: string | undefined): Promise<UserRecord> {
    const requested = parsePatchRequest(body);
    return this.write(ctx, id, async (db, also) => {
      const current = await this.lockUser(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      const operations = normaliseUserPatch(requested, current.doc, this.catalog);
      let patched: unknown;
      try {
        const resource = new SCIMMY.Schemas.User(current.doc, 'in');
        patched = await new SCIMMY.Messages.PatchOp({ schemas: [PATCH_OP], Operations: operations }).apply(resource);
      } catch (err) {
        throw asSchemaViolation(err);
      }
      if (!patched) return current;
      const write = userWriteFrom(JSON.parse(JSON.stringify(patched)) as Record<string, unknown>);
      return this.saveIfChanged(db, ctx, current, write, 'user.patched', also);
    });
  }

  async remove(ctx: TenantContext, id: string, ifMatch: string | undefined): Promise<void> {
    await this.write(ctx, id, async (db, also) => {
      const current = await this.lockUser(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      await writeWithAudit(db, ctx.tenantId, deleteUserStatement(ctx.tenantId, id), this.event(ctx, 'user.deleted', id, []), MARK);
      also.push(...(await markSponsoredUsers(db, ctx.tenantId, [current.userName], 'sponsor.deleted')));
    });
  }

  async get(ctx: TenantContext, id: string, withGroups: boolean): Promise<UserWithGroups> {
    return inTenantTx(
      this.pool,
      ctx.tenantId,
      async (db) => {
        if (!isUuid(id)) throw notFound(id);
        if (withGroups) {
          const found = await findUserWithGroups(db, ctx.tenantId, id);
          if (!found) throw notFound(id);
          return found;
        }
        const user = await findUser(db, ctx.tenantId, id);
        if (!user) throw notFound(id);
        return { user, groups: undefined };
      },
      { readOnly: true },
    );
  }

  async list(ctx: TenantContext, params: ListParams, withGroups: boolean): Promise<{ total: number; items: UserWithGroups[] }> {
    const query = {
      params,
      catalog: this.catalog,
      table: 'users' as const,
      columns: withGroups ? `${USER_COLUMNS}, ${USER_GROUPS_COLUMN}` : USER_COLUMNS,
      toRecord: (row: UserRowWithGroups): UserWithGroups => ({ user: toUserRecord(row), groups: withGroups ? (row.groups ?? []) : undefined }),
    };
    return listPage(this.pool, ctx.tenantId, query, async ({ total, records }) => ({ total, items: records }));
  }

  private async saveIfChanged(
    db: Tx,
    ctx: TenantContext,
    current: UserRecord,
    write: UserWrite,
    action: 'user.replaced' | 'user.patched',
    also: string[],
  ): Promise<UserRecord> {
    const changed = changedAttributes(current.doc, write.doc);
    if (changed.length === 0) return current;
    const [row] = await writeWithAudit<UserRow>(db, ctx.tenantId, updateUserStatement(ctx.tenantId, current.id, write), this.event(ctx, action, current.id, changed), MARK);
    // A sponsor deactivated, back, or renamed: the users it sponsors are reconciled too (sponsor cascade).
    if (current.active !== write.active || current.userName !== write.userName) {
      also.push(...(await markSponsoredUsers(db, ctx.tenantId, [current.userName, write.userName], 'sponsor.changed')));
    }
    return toUserRecord(row!);
  }

  private async lockUser(db: Queryable, ctx: TenantContext, id: string): Promise<UserRecord> {
    const user = isUuid(id) ? await findUser(db, ctx.tenantId, id, { forUpdate: true }) : null;
    if (!user) throw notFound(id);
    return user;
  }

  /**
   * Every user write may mark the user (and `also` the users it sponsors); once it has committed, their
   * reconciles are queued.
   */
  private async write<T>(ctx: TenantContext, id: string, work: (db: Tx, also: string[]) => Promise<T>, change = MAY_REVOKE): Promise<T> {
    const also: string[] = [];
    const result = await scimWrite(this.pool, ctx.tenantId, UNIQUE, (db) => {
      also.length = 0;
      return work(db, also);
    });
    this.onMarked(ctx.tenantId, [id, ...also.filter((u) => u !== id)], change);
    return result;
  }


  private event(ctx: TenantContext, action: string, id: string, attributes: string[]): AuditEventInput {
    return { actor: actorOf(ctx), action, resourceType: 'user', resourceId: id, attributes };
  }
}

function notFound(id: string): ScimError {
  return new ScimError(404, undefined, `no User "${id.slice(0, 100)}" in this tenant`);
}
