import type pg from 'pg';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { ScimError } from '../../errors/scim-error.js';
import {
  addMembers,
  deleteGroup,
  existingUserIds,
  findGroup,
  GROUP_COLUMNS,
  type GroupRecord,
  insertGroup,
  listMembers,
  type MemberInput,
  type MemberView,
  removeMembers,
  removeMembersExcept,
  toGroupRecord,
  updateGroup,
} from '../../store/groups-store.js';
import type { Queryable } from '../../store/pool.js';
import { inTenantTx, isUuid } from '../../store/transaction.js';
import { checkIfMatch } from '../etag.js';
import type { ResourceCatalog } from '../filter/catalog.js';
import { markGroupMembers, markUsers, type OnUsersMarked } from '../../store/reconcile-outbox.js';
import { listPage } from '../list-page.js';
import type { ListParams } from '../list-params.js';
import { parsePatchRequest } from '../patch-request.js';
import { actorOf, type TenantContext } from '../tenant-context.js';
import { scimWrite } from '../scim-write.js';
import { type GroupInput, type MemberRef, parseGroupInput } from './group-input.js';
import { type GroupPatchStep, planGroupPatch } from './plan-group-patch.js';
import type { Tx } from '../../store/transaction.js';

const UNIQUE = { groups_display_name_key: 'displayName is already taken by another group in this tenant' };

export interface GroupWithMembers {
  group: GroupRecord;
  members: MemberView[] | undefined;
}

/** Users a write marked, and whether the change may take access away (then they are reconciled first). */
interface Marked {
  users: string[];
  mayRevoke: boolean;
}

/** Net membership change of one request, for the audit trail (and, later, for marking users to reconcile). */
class MembershipChange {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();

  add(ids: string[]): void {
    for (const id of ids) if (!this.removed.delete(id)) this.added.add(id);
  }

  remove(ids: string[]): void {
    for (const id of ids) if (!this.added.delete(id)) this.removed.add(id);
  }

  get empty(): boolean {
    return this.added.size === 0 && this.removed.size === 0;
  }
}

/** The Group resource of one tenant. Membership is changed with set-based SQL, never by rewriting the group. */
export class GroupService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly catalog: ResourceCatalog,
    private readonly onMarked: OnUsersMarked = () => {},
  ) {}

  async create(ctx: TenantContext, body: unknown): Promise<GroupWithMembers> {
    const input = parseGroupInput(body);
    return this.write(ctx, async (db, marked) => {
      const members = await this.resolveMembers(db, ctx, input.members, 'members');
      const group = await insertGroup(db, ctx.tenantId, groupWrite(input));
      const added = await addMembers(db, ctx.tenantId, group.id, members);
      marked.users.push(...(await markUsers(db, ctx.tenantId, added, 'group.created')));
      this.audit(db, ctx, 'group.created', group.id, ['displayName', ...(input.externalId ? ['externalId'] : [])], added, []);
      return { group, members: await this.membersOf(db, ctx, group.id) };
    });
  }

  async replace(ctx: TenantContext, id: string, body: unknown, ifMatch: string | undefined): Promise<GroupWithMembers> {
    const input = parseGroupInput(body);
    return this.write(ctx, async (db, marked) => {
      const current = await this.lockGroup(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      const members = await this.resolveMembers(db, ctx, input.members, 'members');
      const change = new MembershipChange();
      change.remove(await removeMembersExcept(db, ctx.tenantId, id, members.map((m) => m.userId)));
      change.add(await addMembers(db, ctx.tenantId, id, members));
      const group = await this.saveGroup(db, ctx, current, input, change, 'group.replaced', marked);
      return { group, members: await this.membersOf(db, ctx, id) };
    });
  }

  /** Locks the group row, so concurrent PATCHes of one group apply in turn and none is lost. */
  async patch(ctx: TenantContext, id: string, body: unknown, ifMatch: string | undefined): Promise<GroupRecord> {
    const steps = planGroupPatch(parsePatchRequest(body));
    return this.write(ctx, async (db, marked) => {
      const current = await this.lockGroup(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      const next: GroupInput = { displayName: current.displayName, externalId: current.externalId, members: [] };
      const change = new MembershipChange();
      for (const [index, step] of steps.entries()) {
        await this.applyStep(db, ctx, id, step, next, change, `Operations[${index}]`);
      }
      return this.saveGroup(db, ctx, current, next, change, 'group.patched', marked);
    });
  }

  async remove(ctx: TenantContext, id: string, ifMatch: string | undefined): Promise<void> {
    await this.write(ctx, async (db, marked) => {
      const current = await this.lockGroup(db, ctx, id);
      checkIfMatch(ifMatch, current.version);
      // Its members are marked before the membership rows go with the group.
      marked.users.push(...(await markGroupMembers(db, ctx.tenantId, id, 'group.deleted')));
      marked.mayRevoke = true;
      await deleteGroup(db, ctx.tenantId, id);
      this.audit(db, ctx, 'group.deleted', id, [], [], []);
    });
  }

  async get(ctx: TenantContext, id: string, withMembers: boolean): Promise<GroupWithMembers> {
    return inTenantTx(
      this.pool,
      ctx.tenantId,
      async (db) => {
        const group = isUuid(id) ? await findGroup(db, ctx.tenantId, id) : null;
        if (!group) throw notFound(id);
        return { group, members: withMembers ? await this.membersOf(db, ctx, id) : undefined };
      },
      { readOnly: true },
    );
  }

  async list(ctx: TenantContext, params: ListParams, withMembers: boolean): Promise<{ total: number; items: GroupWithMembers[] }> {
    const query = { params, catalog: this.catalog, table: 'groups' as const, columns: GROUP_COLUMNS, toRecord: toGroupRecord };
    return listPage(this.pool, ctx.tenantId, query, async ({ total, records, db }) => {
      const members = withMembers ? await listMembers(db, ctx.tenantId, records.map((g) => g.id)) : undefined;
      return { total, items: records.map((group) => ({ group, members: members ? (members.get(group.id) ?? []) : undefined })) };
    });
  }

  private async applyStep(
    db: Queryable,
    ctx: TenantContext,
    groupId: string,
    step: GroupPatchStep,
    next: GroupInput,
    change: MembershipChange,
    at: string,
  ): Promise<void> {
    switch (step.kind) {
      case 'set':
        if (step.displayName !== undefined) next.displayName = step.displayName;
        if (step.externalId !== undefined) next.externalId = step.externalId;
        return;
      case 'add':
        change.add(await addMembers(db, ctx.tenantId, groupId, await this.resolveMembers(db, ctx, step.members, at)));
        return;
      case 'remove':
        // A reference that is not a member (or not even an id) has nothing to remove: the end state holds.
        change.remove(await removeMembers(db, ctx.tenantId, groupId, step.values.filter(isUuid)));
        return;
      case 'removeAll':
        change.remove(await removeMembersExcept(db, ctx.tenantId, groupId, []));
        return;
      case 'replace': {
        const members = await this.resolveMembers(db, ctx, step.members, at);
        change.remove(await removeMembersExcept(db, ctx.tenantId, groupId, members.map((m) => m.userId)));
        change.add(await addMembers(db, ctx.tenantId, groupId, members));
        return;
      }
    }
  }

  /** Every reference must be a user of this tenant; the first few that are not are named in the error. */
  private async resolveMembers(db: Queryable, ctx: TenantContext, refs: MemberRef[], at: string): Promise<MemberInput[]> {
    const unique = new Map<string, MemberRef>();
    for (const ref of refs) unique.set(ref.value.toLowerCase(), ref);
    const ids = [...unique.keys()];
    const found = await existingUserIds(db, ctx.tenantId, ids.filter(isUuid));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const named = missing.slice(0, 5).map((m) => `"${m.slice(0, 64)}"`).join(', ');
      throw new ScimError(400, 'invalidValue', `${at}: ${missing.length} member reference(s) are not users of this tenant: ${named}`);
    }
    return ids.map((id) => ({ userId: id, display: unique.get(id)!.display }));
  }

  private async saveGroup(
    db: Tx,
    ctx: TenantContext,
    current: GroupRecord,
    next: GroupInput,
    change: MembershipChange,
    action: 'group.replaced' | 'group.patched',
    marked: Marked,
  ): Promise<GroupRecord> {
    const attributes: string[] = [];
    if (next.displayName !== current.displayName) attributes.push('displayName');
    if (next.externalId !== current.externalId) attributes.push('externalId');
    if (!change.empty) attributes.push('members');
    if (attributes.length === 0) return current;
    // A rename can change what every member gets (rules match groups by name); a membership change only
    // what the added and removed users get.
    if (attributes.includes('displayName') || attributes.includes('externalId')) {
      marked.users.push(...(await markGroupMembers(db, ctx.tenantId, current.id, action)));
      marked.mayRevoke = true;
    }
    marked.users.push(...(await markUsers(db, ctx.tenantId, [...change.added, ...change.removed], action)));
    if (change.removed.size > 0) marked.mayRevoke = true;
    const group = await updateGroup(db, ctx.tenantId, current.id, groupWrite(next));
    this.audit(db, ctx, action, current.id, attributes, [...change.added], [...change.removed]);
    return group;
  }

  private async membersOf(db: Queryable, ctx: TenantContext, groupId: string): Promise<MemberView[]> {
    return (await listMembers(db, ctx.tenantId, [groupId])).get(groupId) ?? [];
  }

  private async lockGroup(db: Queryable, ctx: TenantContext, id: string): Promise<GroupRecord> {
    const group = isUuid(id) ? await findGroup(db, ctx.tenantId, id, { forUpdate: true }) : null;
    if (!group) throw notFound(id);
    return group;
  }

  /** `work` collects the users it marked; once the transaction has committed, their reconciles are queued. */
  private async write<T>(ctx: TenantContext, work: (db: Tx, marked: Marked) => Promise<T>): Promise<T> {
    const marked: Marked = { users: [], mayRevoke: false };
    const result = await scimWrite(this.pool, ctx.tenantId, UNIQUE, (db) => work(db, marked));
    if (marked.users.length) this.onMarked(ctx.tenantId, [...new Set(marked.users)], { mayRevoke: marked.mayRevoke });
    return result;
  }


  private audit(
    db: Tx,
    ctx: TenantContext,
    action: string,
    id: string,
    attributes: string[],
    added: string[],
    removed: string[],
  ): void {
    const detail: Record<string, string[]> = added.length || removed.length ? { membersAdded: added, membersRemoved: removed } : {};
    recordAuditEvent(db, ctx.tenantId, { actor: actorOf(ctx), action, resourceType: 'group', resourceId: id, attributes, detail });
  }
}

function groupWrite(input: GroupInput): { displayName: string; externalId: string | null; doc: Record<string, unknown> } {
  const doc: Record<string, unknown> = { displayName: input.displayName };
  if (input.externalId !== null) doc['externalId'] = input.externalId;
  return { displayName: input.displayName, externalId: input.externalId, doc };
}

function notFound(id: string): ScimError {
  return new ScimError(404, undefined, `no Group "${id.slice(0, 100)}" in this tenant`);
}
