import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiManifestSource } from './manifest-api-source.js';

const root = mkdtempSync(join(tmpdir(), 'lanyard-manifest-'));
const dir = join(root, 'manifests');
mkdirSync(join(dir, 'secrets'), { recursive: true });
writeFileSync(join(dir, 'secrets', 'crm'), 'inside\n');
writeFileSync(join(root, 'outside'), 'outside\n');
symlinkSync(join(root, 'outside'), join(dir, 'secrets', 'link'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const codeOf = (read: () => unknown): unknown => {
  try {
    read();
    return null;
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
};

describe('references of a manifest sent to the admin API', () => {
  it('reads files inside ADMIN_MANIFEST_DIR only, whatever the path or a link says', () => {
    const source = apiManifestSource('', dir, {});
    expect(source.readFile(join(dir, 'secrets', 'crm'))).toBe('inside\n');
    expect(codeOf(() => source.readFile(join(dir, '..', 'outside')))).toBe('outside ADMIN_MANIFEST_DIR');
    expect(codeOf(() => source.readFile(join(dir, 'secrets', 'link')))).toBe('outside ADMIN_MANIFEST_DIR');
    expect(codeOf(() => source.readFile(dir))).toBe('outside ADMIN_MANIFEST_DIR');
    expect(codeOf(() => source.readFile(join(dir, 'missing')))).toBe('ENOENT');
  });

  it('reads no file at all without ADMIN_MANIFEST_DIR', () => {
    expect(codeOf(() => apiManifestSource('', undefined, {}).readFile(join(dir, 'secrets', 'crm')))).toBe('file references need ADMIN_MANIFEST_DIR on the server');
  });

  it("offers the server's environment without Lanyard's own settings", () => {
    const source = apiManifestSource('', dir, { CRM_TOKEN: 'abc', LANYARD_MASTER_KEY: 'secret', DATABASE_URL: 'postgres://x' });
    expect(source.env).toEqual({ CRM_TOKEN: 'abc' });
  });
});
