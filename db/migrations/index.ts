import type { Knex } from 'knex';
import * as m001 from './001_extensions';
import * as m002 from './002_users';

type Migration = { up: (knex: Knex) => Promise<void>; down: (knex: Knex) => Promise<void> };

// Listed explicitly so the same migrations run from TypeScript sources, compiled output and tests.
const migrations: Record<string, Migration> = {
  '001_extensions': m001,
  '002_users': m002,
};

/** Knex migration source over the list above, in name order. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`Unknown migration ${name}`);
    return migration;
  },
};
