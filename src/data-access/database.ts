import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type Extension } from '@electric-sql/pglite';
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Config } from '../lib/config';
import { migrationSource } from '../../db/migrations';

// The package declares its contrib entries' types for ES modules only; its CommonJS build is what loads here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension };

// bigint (count(*), sums) arrives as a string from pg; ids and totals here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Db = Knex;
export type DbOrTx = Knex | Knex.Transaction;

/** Opens the configured database: PostgreSQL through pg, or embedded PGlite (in memory when dataDir is ':memory:'). */
export function createDatabase(database: Config['database']): Db {
  if (database.kind === 'postgres') {
    return knex({
      client: 'pg',
      connection: {
        connectionString: database.url,
        connectionTimeoutMillis: database.connectTimeoutMs,
        statement_timeout: database.statementTimeoutMs,
      },
      pool: { min: database.poolMin, max: database.poolMax },
      acquireConnectionTimeout: database.connectTimeoutMs,
    });
  }
  const dataDir = database.dataDir === ':memory:' ? undefined : path.resolve(database.dataDir);
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite({ dataDir, extensions: { pg_trgm } });
  return knex({
    client: ClientPgLite as unknown as Knex.Config['client'],
    dialect: 'postgres',
    connection: () => ({ pglite }) as object,
  });
}

/** Applies every pending migration from `db/migrations`. */
export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** True when the error is PostgreSQL's unique violation, optionally on the named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(`"${constraint}"`);
}

/**
 * True when the error is a foreign key violation, optionally on the named constraint: 23503, or 23001 which an
 * `ON DELETE RESTRICT` key raises when a referenced row is deleted.
 */
export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== '23503' && e?.code !== '23001') return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(`"${constraint}"`);
}
