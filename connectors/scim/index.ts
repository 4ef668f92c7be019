import { ConnectorError } from '../kit/connector-error.js';
import type { AccountRef, Connector, ConnectorKind, Outcome } from '../kit/contract.js';
import { PATCH_OP, quoted, ScimClient } from './client.js';
import { type ScimConfig, scimConfigSchema } from './config.js';
import { lastActivityReader } from './last-activity.js';

const GROUP_PREFIX = 'group:';
const unchanged: Outcome = { result: 'unchanged', value: undefined };
const changed: Outcome = { result: 'changed', value: undefined };

interface ScimUser {
  id: string;
  userName?: string;
  externalId?: string;
  active?: boolean;
  groups?: { value: string; display?: string }[];
}

interface ScimGroup {
  id: string;
  displayName: string;
}

/**
 * Provisioning into a downstream application that speaks SCIM 2.0. Account = a SCIM user whose externalId
 * is Lanyard's user id (how Lanyard finds it again and knows it is its own); entitlements = group
 * memberships, `group:<displayName>`; disable = `active: false`; remove = DELETE; last activity = the
 * configured `activityAttribute` of the user, when there is one.
 */
export const scimConnector: ConnectorKind<ScimConfig> = {
  kind: 'scim',
  configSchema: scimConfigSchema,
  secretFields: ['auth.token', 'auth.clientSecret'],
  create(config): Connector {
    const scim = new ScimClient(config);

    const userById = async (ref: AccountRef): Promise<ScimUser | null> => {
      try {
        return (await scim.request<ScimUser>('GET', `/Users/${encodeURIComponent(ref.id)}`)).body;
      } catch (err) {
        if (err instanceof ConnectorError && err.code === 'not_found') return null;
        throw err;
      }
    };

    const groupNamed = async (entitlement: string): Promise<ScimGroup> => {
      const name = entitlement.startsWith(GROUP_PREFIX) ? entitlement.slice(GROUP_PREFIX.length) : '';
      const found = name
        ? await scim.list<ScimGroup>('Groups', { filter: `displayName eq ${quoted(name)}`, excludedAttributes: 'members' })
        : [];
      if (found.length !== 1) throw new ConnectorError('not_found', `no downstream group for "${entitlement}"`);
      return found[0]!;
    };

    const memberOf = async (ref: AccountRef, groupId: string): Promise<boolean> => {
      const user = await userById(ref);
      if (!user) throw new ConnectorError('not_found', `no downstream user "${ref.id}"`);
      return (user.groups ?? []).some((g) => g.value === groupId);
    };

    return {
      async verify() {
        await scim.request('GET', '/ServiceProviderConfig');
        await scim.request('GET', '/Users?count=1');
      },

      accounts: {
        async ensure(account) {
          const [existing] = await scim.list<ScimUser>('Users', { filter: `externalId eq ${quoted(account.userId)}` });
          if (existing) {
            if (existing.active !== false && existing.userName === account.userName) return { result: 'unchanged', value: { id: existing.id } };
            await scim.request('PATCH', `/Users/${encodeURIComponent(existing.id)}`, {
              schemas: [PATCH_OP],
              Operations: [{ op: 'replace', value: { active: true, userName: account.userName } }],
            });
            return { result: 'changed', value: { id: existing.id } };
          }
          const user: Record<string, unknown> = {
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName: account.userName,
            externalId: account.userId,
            active: true,
          };
          if (account.displayName) user['displayName'] = account.displayName;
          if (account.email) user['emails'] = [{ value: account.email, type: 'work', primary: true }];
          try {
            const { body } = await scim.request<ScimUser>('POST', '/Users', user);
            if (!body?.id) throw new ConnectorError('invalid_response', 'POST /Users: no id in the answer');
            return { result: 'changed', value: { id: body.id } };
          } catch (err) {
            // A user of that name that Lanyard did not create is never taken over.
            if (err instanceof ConnectorError && err.code === 'conflict') {
              throw new ConnectorError('conflict', `the downstream already has a user "${account.userName}" that Lanyard did not create`);
            }
            throw err;
          }
        },

        async disable(ref) {
          const user = await userById(ref);
          if (!user) throw new ConnectorError('not_found', `no downstream user "${ref.id}"`);
          if (user.active === false) return unchanged;
          await scim.request('PATCH', `/Users/${encodeURIComponent(ref.id)}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
          return changed;
        },

        async remove(ref) {
          try {
            await scim.request('DELETE', `/Users/${encodeURIComponent(ref.id)}`);
            return changed;
          } catch (err) {
            if (err instanceof ConnectorError && err.code === 'not_found') return unchanged;
            throw err;
          }
        },
      },

      entitlements: {
        async list() {
          const groups = await scim.list<ScimGroup>('Groups', { attributes: 'displayName' });
          return groups.map((g) => ({ id: `${GROUP_PREFIX}${g.displayName}` }));
        },
        async grant(ref, entitlement) {
          const group = await groupNamed(entitlement);
          if (await memberOf(ref, group.id)) return unchanged;
          await scim.request('PATCH', `/Groups/${encodeURIComponent(group.id)}`, {
            schemas: [PATCH_OP],
            Operations: [{ op: 'add', path: 'members', value: [{ value: ref.id }] }],
          });
          return changed;
        },
        async revoke(ref, entitlement) {
          const group = await groupNamed(entitlement);
          // A user that is gone holds nothing: the end state is already there.
          const user = await userById(ref);
          if (!user || !(user.groups ?? []).some((g) => g.value === group.id)) return unchanged;
          await scim.request('PATCH', `/Groups/${encodeURIComponent(group.id)}`, {
            schemas: [PATCH_OP],
            Operations: [{ op: 'remove', path: `members[value eq ${quoted(ref.id)}]` }],
          });
          return changed;
        },
        async grantsOf(ref) {
          const user = await userById(ref);
          return (user?.groups ?? []).map((g) => `${GROUP_PREFIX}${g.display ?? g.value}`);
        },
      },

      // A capability only where the application reports activity, and only the configuration can say so.
      ...(config.activityAttribute ? { lastActivity: lastActivityReader(scim, config.activityAttribute) } : {}),
    };
  },
};
