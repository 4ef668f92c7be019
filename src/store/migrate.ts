import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../log/logger.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Creates the database named in `databaseUrl` when it does not exist yet, connecting to the server's
 * `postgres` database to do so. Safe to race: a concurrent creator's "already exists" is success.
 */
export async function ensureDatabase(databaseUrl: string, log?: Logger): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    log?.info({ database: name }, 'created database');
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database
  } finally {
    await client.end();
  }
}

/** Applies every pending migration under an advisory lock, so several starting processes agree. */
export async function migrate(databaseUrl: string, log?: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      checkOrder: true,
      // Wait for a concurrent starter's migration run instead of failing (the default is 'fail').
      advisoryLockMode: 'wait',
      log: (message: string) => log?.debug({ migration: message }, 'migration'),
    });
  } finally {
    await client.end();
  }
}
