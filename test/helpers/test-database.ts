import { inject } from 'vitest';
import pg from 'pg';
import { databaseUrl, dropDatabase, randomName, withAdmin } from './databases.js';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = randomName('lanyard_test');
  // Copying a template needs it free of connections; retry briefly if another file is copying it too.
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdmin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`));
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}
