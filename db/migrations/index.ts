import type { Knex } from 'knex';
import * as m001 from './001_extensions';
import * as m002 from './002_users';
import * as m003 from './003_identity';
import * as m004 from './004_catalog';
import * as m005 from './005_orders';
import * as m006 from './006_posts';
import * as m007 from './007_catalog_version';

type Migration = { up: (knex: Knex) => Promise<void>; down: (knex: Knex) => Promise<void> };

// Listed explicitly so the same migrations run from TypeScript sources, compiled output and tests.
const migrations: Record<string, Migration> = {
  '001_extensions': m001,
  '002_users': m002,
  '003_identity': m003,
  '004_catalog': m004,
  '005_orders': m005,
  '006_posts': m006,
  '007_catalog_version': m007,
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
