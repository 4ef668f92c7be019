import { ConnectorError } from '../kit/connector-error.js';
import { errorFromNetwork, errorFromStatus } from '../kit/http-status.js';
import { type AccessTokens, accessTokens } from './access-token.js';
import type { ScimConfig } from './config.js';

const SCIM_JSON = 'application/scim+json';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** One SCIM call at a time, with the connector's timeout; statuses become ConnectorErrors in one place. */
export class ScimClient {
  private readonly tokens: AccessTokens;

  constructor(private readonly config: ScimConfig) {
    this.tokens = accessTokens(config.auth, config.timeoutMs);
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T | null }> {
    const what = `${method} ${path.split('?')[0]}`;
    const token = await this.tokens.current();
    let response = await this.send(method, path, body, token, what);
    if (response.status === 401) {
      // An OAuth token may be revoked or expire early: one fresh token, one more try.
      const fresh = await this.tokens.renew(token);
      if (fresh) {
        await response.body?.cancel();
        response = await this.send(method, path, body, fresh, what);
      }
    }
    if (response.status >= 400) throw errorFromStatus(response.status, what, response.headers.get('retry-after'));
    const text = await response.text();
    if (!text) return { status: response.status, body: null };
    try {
      return { status: response.status, body: JSON.parse(text) as T };
    } catch {
      throw new ConnectorError('invalid_response', `${what}: the answer is not JSON`);
    }
  }

  private async send(method: string, path: string, body: unknown, token: string, what: string): Promise<Response> {
    try {
      return await fetch(`${this.config.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: SCIM_JSON,
          ...(body === undefined ? {} : { 'Content-Type': SCIM_JSON }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw errorFromNetwork(err, what);
    }
  }

  /** The resources of a filtered list, following pages. */
  async list<T>(resource: 'Users' | 'Groups', query: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    for (let start = 1; ; ) {
      const params = new URLSearchParams({ ...query, startIndex: String(start), count: '100' });
      const { body } = await this.request<{ Resources?: T[]; totalResults?: number }>('GET', `/${resource}?${params}`);
      const page = body?.Resources ?? [];
      out.push(...page);
      start += page.length;
      if (page.length === 0 || start > (body?.totalResults ?? 0)) return out;
    }
  }
}

/** A SCIM filter string literal. */
export function quoted(value: string): string {
  return JSON.stringify(value);
}
