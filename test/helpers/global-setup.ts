import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, migrate } from '../../src/store/migrate.js';
import { databaseUrl, withAdmin } from './databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Migrates one template database per version of the migrations; every test file then copies it
 * (CREATE DATABASE … TEMPLATE), which is much faster than migrating per file and keeps files isolated.
 */
export default async function setup(project: TestProject): Promise<void> {
  const dir = fileURLToPath(new URL('../../src/store/migrations', import.meta.url));
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(`${dir}/${file}`));
  const name = `lanyard_test_tpl_${hash.digest('hex').slice(0, 12)}`;
  const exists = await withAdmin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount);
  if (!exists) {
    const building = `${name}_build_${process.pid}`;
    await ensureDatabase(databaseUrl(building));
    await migrate(databaseUrl(building));
    await withAdmin(async (c) => {
      await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`).catch(async (err: { code?: string }) => {
        // Another run finished first: keep theirs.
        if (err.code !== '42P04') throw err;
        await c.query(`DROP DATABASE ${building}`);
      });
    });
  }
  project.provide('templateDatabase', name);
}
