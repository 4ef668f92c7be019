import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorKeyService } from '../../src/operators/operator-key-service.js';
import { runCli } from '../helpers/cli.js';
import { startTestService, type TestService } from '../helpers/test-service.js';

const KEY_LINE = /^lanyard_op_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\n$/;
const TIMEOUT = 60_000;
const DAY = 86_400_000;

let svc: TestService;
let keys: OperatorKeyService;

beforeAll(async () => {
  svc = await startTestService();
  await svc.tenant('acme');
  await svc.tenant('globex');
  keys = new OperatorKeyService(svc.runtime.pool, { defaultTtlMs: 30 * DAY, maxTtlMs: 90 * DAY }, pino({ level: 'silent' }));
}, TIMEOUT);
afterAll(() => svc?.close());

const lanyard = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...svc.cliEnv(), ...env });

function jsonError(stderr: string): { code: string; message: string } {
  return (JSON.parse(stderr.trim()) as { error: { code: string; message: string } }).error;
}

describe('lanyard operator key', () => {
  it(
    'creates a key, printing it once on its own line, and the key works until revoked',
    async () => {
      const created = await lanyard(['operator', 'key', 'create', '--name', 'acme-ops', '--role', 'tenant-admin', '--tenant', 'globex', '--tenant', 'acme', '--ttl', '7d']);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(KEY_LINE);
      expect(created.stderr).toMatch(/operator key [0-9a-f-]{36} \(acme-ops, tenant-admin of acme, globex\), expires .*shown only this once/);
      const key = created.stdout.trim();
      const verified = await keys.verify(key);
      expect(verified).toMatchObject({ ok: true, operator: { name: 'acme-ops', via: 'api-key', role: 'tenant-admin', tenants: ['acme', 'globex'] } });

      const listed = await lanyard(['operator', 'key', 'list', '--json']);
      expect(listed.code).toBe(0);
      const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
      expect(listed.stdout).not.toContain(key.slice(-43));
      const row = rows.find((r) => r['name'] === 'acme-ops')!;
      expect(row).toMatchObject({ role: 'tenant-admin', tenants: ['acme', 'globex'], state: 'active', revokedAt: null });
      expect(Date.parse(String(row['expiresAt'])) - Date.parse(String(row['createdAt']))).toBe(7 * DAY);
      expect(String(row['createdBy'])).toMatch(/^operator:cli:/);

      const human = await lanyard(['operator', 'key', 'list']);
      expect(human.stdout).toMatch(new RegExp(`${String(row['id'])}\\tacme-ops\\ttenant-admin\\tacme,globex\\tactive\\t`));

      const revoked = await lanyard(['operator', 'key', 'revoke', String(row['id'])]);
      expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${String(row['id'])}\n` });
      expect(await keys.verify(key)).toEqual({ ok: false, reason: 'revoked' });
      const again = await lanyard(['operator', 'key', 'revoke', String(row['id']), '--json']);
      expect(JSON.parse(again.stdout)).toEqual({ id: row['id'], result: 'already_revoked' });
      const after = JSON.parse((await lanyard(['operator', 'key', 'list', '--json'])).stdout) as Record<string, unknown>[];
      expect(after.find((r) => r['id'] === row['id'])).toMatchObject({ state: 'revoked' });
    },
    TIMEOUT,
  );

  it(
    'creates an msp-admin key with --json and the default lifetime',
    async () => {
      const created = await lanyard(['operator', 'key', 'create', '--name', 'ops', '--role', 'msp-admin', '--json']);
      expect(created.code).toBe(0);
      const body = JSON.parse(created.stdout) as Record<string, string>;
      expect(`${body['key']}\n`).toMatch(KEY_LINE);
      expect(body).toMatchObject({ name: 'ops', role: 'msp-admin', tenants: 'all', revokedAt: null, lastUsedAt: null });
      // OPERATOR_KEY_DEFAULT_TTL: 30 days.
      expect(Date.parse(body['expiresAt']!) - Date.parse(body['createdAt']!)).toBe(30 * DAY);
      expect(await keys.verify(body['key']!)).toMatchObject({ ok: true, operator: { role: 'msp-admin', tenants: 'all' } });
    },
    TIMEOUT,
  );

  it(
    'refuses bad input with the documented exit statuses',
    async () => {
      const cases: [string[], number, string][] = [
        [['--name', 'x', '--role', 'tenant-admin'], 2, 'invalid_input'],
        [['--name', 'x', '--role', 'auditor', '--tenant', 'acme'], 2, 'invalid_input'],
        [['--name', 'x', '--role', 'superuser'], 2, 'invalid_input'],
        [['--name', 'x', '--role', 'auditor', '--ttl', '91d'], 2, 'invalid_input'],
        [['--name', 'x', '--role', 'auditor', '--ttl', 'forever'], 2, 'invalid_input'],
        [['--name', 'x', '--role', 'tenant-admin', '--tenant', 'initech'], 3, 'not_found'],
      ];
      for (const [args, code, errorCode] of cases) {
        const result = await lanyard(['operator', 'key', 'create', ...args, '--json']);
        expect(result.code, args.join(' ')).toBe(code);
        expect(result.stdout).toBe('');
        expect(jsonError(result.stderr).code).toBe(errorCode);
      }
      const unknown = await lanyard(['operator', 'key', 'revoke', '00000000-0000-4000-8000-000000000000', '--json']);
      expect(unknown.code).toBe(3);
      expect(jsonError(unknown.stderr).code).toBe('not_found');
    },
    TIMEOUT,
  );

  it(
    'honours OPERATOR_KEY_MAX_TTL, and a bad setting stops the command naming it',
    async () => {
      const over = await lanyard(['operator', 'key', 'create', '--name', 'x', '--role', 'auditor', '--ttl', '10d'], { OPERATOR_KEY_MAX_TTL: '7d', OPERATOR_KEY_DEFAULT_TTL: '1d' });
      expect(over.code).toBe(2);
      expect(over.stderr).toContain('OPERATOR_KEY_MAX_TTL');
      const bad = await lanyard(['operator', 'key', 'list'], { ADMIN_OIDC_ISSUER: 'http://idp.example.com', ADMIN_OIDC_AUDIENCE: 'a', ADMIN_OIDC_ROLE_MAP: 'a=auditor' });
      expect(bad.code).toBe(78);
      expect(bad.stderr).toContain('ADMIN_OIDC_ISSUER');
    },
    TIMEOUT,
  );
});
