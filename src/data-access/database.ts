import fs from 'node:fs';
import path from 'node:path';
import type { Extension, PGlite } from '@electric-sql/pglite';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { lockDataDir, type DataDirLock } from './data-dir-lock';
import { migrationSource } from '../../db/migrations';

// The embedded engine loads only when it is used: its packages are a noticeable share of a PostgreSQL start-up.
function loadPglite() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    PGlite: (require('@electric-sql/pglite') as { PGlite: typeof PGlite }).PGlite,
    // The package declares its contrib entries' types for ES modules only; its CommonJS build is what loads here.
    pg_trgm: (require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension }).pg_trgm,
    ClientPgLite: require('knex-pglite') as unknown as Knex.Config['client'],
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

// bigint (count(*), sums) arrives as a string from pg; ids and totals here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** A timestamp column as a Date: pg parses timestamptz into one already; only a string needs parsing. */
export const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export type Db = Knex;
export type DbOrTx = Knex | Knex.Transaction;

/**
 * Opens the configured database: PostgreSQL through pg, or embedded PGlite (in memory when dataDir is ':memory:'),
 * whose data directory this process then holds until destroy() (DataDirInUseError when another holds it).
 * `inMemoryFrom`, for tests: an in-memory PGlite starts as a copy of this data directory tarball (from
 * dumpDataDir) instead of an empty new cluster, which is several seconds of initdb and migrations on a slow machine.
 */
export function createDatabase(database: Config['database'], logger?: Logger, inMemoryFrom?: Blob): Db {
  // Without a logger of ours knex prints pool errors (e.g. a refused connection) straight to the console.
  const log = logger && {
    warn: (message: unknown) => logger.warn(`database: ${String(message)}`),
    error: (message: unknown) => logger.error(`database: ${String(message)}`),
    debug: (message: unknown) => logger.debug(`database: ${String(message)}`),
    deprecate: (method: string, alternative: string) =>
      logger.warn(`database: ${method} is deprecated, use ${alternative}`),
  };
  if (database.kind === 'postgres') {
    return knex({
      log,
      client: 'pg',
      connection: {
        connectionString: database.url,
        connectionTimeoutMillis: database.connectTimeoutMs,
        // A startup parameter, so it holds for this pool's sessions only. 0 sends none and the server's setting for
        // the role applies: the way behind PgBouncer in transaction mode, which refuses the parameter (README).
        ...(database.statementTimeoutMs > 0 ? { statement_timeout: database.statementTimeoutMs } : {}),
      },
      pool: { min: database.poolMin, max: database.poolMax },
      acquireConnectionTimeout: database.connectTimeoutMs,
    });
  }
  const dataDir = database.dataDir === ':memory:' ? undefined : path.resolve(database.dataDir);
  if (!dataDir) return openPglite({ log, from: inMemoryFrom });
  fs.mkdirSync(dataDir, { recursive: true });
  // PGlite has no locking of its own: a second process on the same directory would write over this one's data.
  const lock = lockDataDir(dataDir);
  try {
    return openPglite({ dataDir, log, lock, sharedBuffers: database.sharedBuffers });
  } catch (err) {
    lock.release();
    throw err;
  }
}

// In memory, every page already lives in the process's memory: PostgreSQL's default 128 MB of shared buffers would
// hold a second copy, and setting them up is about half of the engine's start (~0.6 s of CPU).
const IN_MEMORY_SHARED_BUFFERS = '8MB';

function openPglite(options: {
  dataDir?: string;
  log: Knex.Config['log'];
  lock?: DataDirLock;
  from?: Blob;
  sharedBuffers?: string;
}): Db {
  const { dataDir, log, lock, from } = options;
  const { PGlite: Engine, pg_trgm, ClientPgLite } = loadPglite();
  const sharedBuffers = dataDir ? options.sharedBuffers : IN_MEMORY_SHARED_BUFFERS;
  const pglite = new Engine({
    dataDir,
    extensions: { pg_trgm },
    ...(sharedBuffers ? { startParams: [...Engine.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] } : {}),
    // A new in-memory cluster gets WAL segments of 1 MB instead of 16: a copy of it (the tests' template) is then a
    // quarter smaller and loads faster.
    ...(dataDir ? {} : { initDbStartParams: ['--wal-segsize=1'] }),
    ...(from ? { loadDataDir: from } : {}),
  });
  const db = knex({
    log,
    client: ClientPgLite,
    dialect: 'postgres',
    connection: () => ({ pglite }) as object,
  });
  if (!lock) return db;
  // The directory is free again once the engine is closed (knex closes it only if a query ever ran). knex's own
  // destroy is read-only and calls the client's.
  const client = db.client as { destroy: () => Promise<void> };
  const destroy = client.destroy.bind(client);
  client.destroy = async () => {
    try {
      await destroy();
      if (!pglite.closed) await pglite.close();
    } finally {
      lock.release();
    }
  };
  return db;
}

/**
 * Applies every pending migration from `db/migrations`. On PostgreSQL, instances starting together take turns under
 * an advisory lock: knex creates its lock table and lock row on first use, two instances on a fresh database could
 * both insert that row, and with two rows knex's own lock reports "already locked" for ever.
 */
export async function migrateLatest(db: Db, attempts = 240): Promise<void> {
  const configured = (db.client as { config: Knex.Config }).config.connection;
  if (typeof configured === 'function') {
    // PGlite starts (and creates a new data directory) inside the pool's only connection, which the pool gives up
    // on after 30 s; a busy machine can take longer to create one, so wait for the engine here, without a limit.
    await (configured() as unknown as { pglite: PGlite }).pglite.waitReady;
    return migrateWithRetries(db, attempts);
  }
  const connection = configured as pg.ClientConfig;
  if (typeof connection !== 'object' || connection.connectionString === undefined)
    return migrateWithRetries(db, attempts);
  // Its own connection, outside the pool: the pool may hold a single connection, which the migration needs.
  const lock = new pg.Client({
    connectionString: connection.connectionString,
    connectionTimeoutMillis: connection.connectionTimeoutMillis,
  });
  // A connection lost while migrations run surfaces as the failed commit below, not as an unhandled event.
  lock.on('error', () => {});
  await lock.connect().catch((err: unknown) => {
    throw new DatabaseConnectionError(err);
  });
  try {
    await takeMigrationLock(lock);
    await migrateWithRetries(db, attempts);
    await lock.query('commit');
  } finally {
    // Ending the connection rolls back a transaction still open (PgBouncer closes that server connection), which
    // releases the lock.
    await lock.end();
  }
}

/** Raised when PostgreSQL cannot be reached or refuses the session (no such host, port, database or role). */
export class DatabaseConnectionError extends Error {
  constructor(cause: unknown) {
    super(reasonOf(cause), { cause });
    this.name = 'DatabaseConnectionError';
  }
}

// A host name with several addresses fails with an AggregateError whose own message is empty.
function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map(reasonOf).join('; ');
  return err instanceof Error ? err.message : String(err);
}

// Any fixed number of this application's own.
const MIGRATION_LOCK_KEY = 727_001;

/**
 * Takes the migration lock in a transaction left open on `lock`. A transaction-level lock, because through PgBouncer
 * in transaction mode a session lock would stay with the server connection, which the pooler hands to other clients.
 * While another instance holds it, each try commits and waits, so no pooled server connection is held while waiting.
 */
async function takeMigrationLock(lock: pg.Client): Promise<void> {
  for (;;) {
    await lock.query('begin');
    const { rows } = await lock.query<{ locked: boolean }>('select pg_try_advisory_xact_lock($1) as locked', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0]?.locked) return;
    await lock.query('commit');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function migrateWithRetries(db: Db, attempts: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.migrate.latest({ migrationSource });
      return;
    } catch (err) {
      // Instances starting together race to create knex's bookkeeping tables or hold its lock (PGlite, and any
      // migrator that is not this code): wait for the winner, up to a minute on a loaded machine.
      const e = err as { code?: string; name?: string };
      const raced = e.name === 'MigrationLocked' || e.code === '23505' || e.code === '42P07';
      if (!raced || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * A query built once per database client and then run with new bindings each call, for the hottest lookups: the
 * query builder would compile the same SQL on every call, which allocated more than running it. `build` binds
 * placeholder values in the order the bindings are later passed; a different count is refused.
 */
export function prepared(build: (db: DbOrTx) => Knex.QueryBuilder) {
  const compiled = new WeakMap<object, Knex.Sql>();
  return async <Row>(db: DbOrTx, bindings: readonly Knex.Value[]): Promise<Row[]> => {
    let sql = compiled.get(db.client);
    if (!sql) compiled.set(db.client, (sql = build(db).toSQL()));
    if (sql.bindings.length !== bindings.length)
      throw new Error(`prepared query takes ${sql.bindings.length} bindings, got ${bindings.length}`);
    // Raw results are the driver's: pg's and PGlite's both carry the rows in `rows`.
    const result = (await db.raw(sql.sql, bindings)) as { rows: Row[] };
    return result.rows;
  };
}

/** A write PostgreSQL refused on a constraint its repository names, as a value the use case can decide on. */
export type Refused<K extends string> = { kind: K };

// A unique violation (23505), or a foreign key violation: 23503, or 23001, which an `ON DELETE RESTRICT` key raises
// when a referenced row is deleted.
const CONSTRAINT_VIOLATIONS = new Set(['23505', '23503', '23001']);

/**
 * Runs a write; when PostgreSQL refuses it on one of the named constraints, resolves to that constraint's outcome
 * instead of failing, so that no use case ever matches constraint names. Inside a transaction the refusal still
 * aborts it: the use case must end the transaction (throw) on such an outcome.
 */
export async function refusedAs<T, K extends string>(
  write: Promise<T>,
  outcomes: Record<string, K>,
): Promise<T | Refused<K>> {
  try {
    return await write;
  } catch (err) {
    const e = err as { code?: string; constraint?: string; message?: string };
    if (!CONSTRAINT_VIOLATIONS.has(e?.code ?? '')) throw err;
    // pg names the constraint; PGlite only in the message.
    const name = Object.keys(outcomes).find((c) => e.constraint === c || (e.message ?? '').includes(`"${c}"`));
    if (name === undefined) throw err;
    return { kind: outcomes[name] as K };
  }
}

/** True when a repository's result is a refusal rather than the written record. */
export const isRefused = <K extends string>(result: unknown): result is Refused<K> =>
  typeof result === 'object' && result !== null && 'kind' in result;

/** The result of a write its caller knows no constraint refuses (seeds, test data); a refusal is a plain Error. */
export function written<T>(result: T | Refused<string>): T {
  if (isRefused(result)) throw new Error(`the write was refused: ${result.kind}`);
  return result;
}

/**
 * Locks one row by id until the transaction ends and says whether it exists. For an update the lock is FOR NO KEY
 * UPDATE, the one UPDATE itself takes: it does not hold up the foreign key checks of rows being added that
 * reference this one (an order item for a product, a product in a category); a delete needs FOR UPDATE.
 */
export async function lockRow(db: DbOrTx, table: string, id: number, purpose: 'update' | 'delete'): Promise<boolean> {
  const query = db(table).select('id').where({ id });
  const rows = await (purpose === 'delete' ? query.forUpdate() : query.forNoKeyUpdate());
  return rows.length > 0;
}
