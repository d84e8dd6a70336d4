import fs from 'node:fs';
import pg from 'pg';
import { migrationSource } from '../db/migrations';
import { createDatabase, migrateLatest, type Db } from '../src/data-access/database';
import { migratedDataDir, migratedTemplate } from './support/pglite-template';
import { statementTimeoutMs, throughPooler } from './support/pooler';
import { adminQuery, createScratchDatabase, startProcess } from './support/processes';
import { memoryLogger } from './support/test-app';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

const postgres = (url: string, overrides: { poolMax?: number; statementTimeoutMs?: number } = {}) =>
  createDatabase(
    {
      kind: 'postgres',
      url,
      poolMin: 0,
      poolMax: 2,
      statementTimeoutMs: statementTimeoutMs(30_000),
      connectTimeoutMs: 5_000,
      ...overrides,
    },
    memoryLogger(),
  );

const timedOut = (ms: number) =>
  new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref());

const appliedMigrations = async (database: string) =>
  (await adminQuery<{ name: string }>('select name from knex_migrations order by id', [], database)).map(
    (row) => row.name,
  );

describe('the embedded engine', () => {
  const sharedBuffers = async (db: Db) =>
    ((await db.raw("select current_setting('shared_buffers') as value")) as { rows: { value: string }[] }).rows[0]
      ?.value;

  test('when a data directory on disk is opened with sharedBuffers, then the engine runs with it, and in memory with 8MB', async () => {
    // Copies of the run's template: a new cluster each would be seconds of initdb.
    const dir = migratedDataDir('api-buffers-');
    const onDisk = createDatabase({ kind: 'pglite', dataDir: dir, sharedBuffers: '16MB' });
    const inMemory = createDatabase(
      { kind: 'pglite', dataDir: ':memory:', sharedBuffers: '64MB' },
      undefined,
      migratedTemplate(),
    );
    try {
      expect([await sharedBuffers(onDisk), await sharedBuffers(inMemory)]).toEqual(['16MB', '8MB']);
    } finally {
      await Promise.all([onDisk.destroy(), inMemory.destroy()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations', () => {
  test('when several instances migrate a fresh PostgreSQL database at once, then all succeed and each migration runs once', async () => {
    const scratch = await createScratchDatabase();
    const instances = [postgres(scratch.url), postgres(scratch.url), postgres(scratch.url)];
    try {
      await Promise.all(instances.map((db) => migrateLatest(db)));
      expect(await appliedMigrations(scratch.name)).toEqual(await migrationSource.getMigrations([]));
    } finally {
      await Promise.all(instances.map((db) => db.destroy()));
      await scratch.drop();
    }
  });

  test('when several processes run the migrate script on a fresh database at once, then all exit 0 and each migration is recorded once', async () => {
    const scratch = await createScratchDatabase();
    const runs = [1, 2, 3].map(() => startProcess('scripts/migrate.ts', { DATABASE_URL: scratch.url }));
    try {
      const codes = await Promise.all(runs.map((run) => Promise.race([run.exited, timedOut(60_000)])));
      expect({ codes, output: runs.map((run) => run.output()) }).toEqual({
        codes: [0, 0, 0],
        output: runs.map(() => expect.stringContaining('migrations applied (postgres); pending: 0')),
      });
      expect(await appliedMigrations(scratch.name)).toEqual(await migrationSource.getMigrations([]));
      // One batch: the process that got the lock first applied them all, the others then found nothing pending.
      const batches = await adminQuery('select distinct batch from knex_migrations', [], scratch.name);
      expect(batches).toEqual([{ batch: 1 }]);
    } finally {
      for (const run of runs) run.child.kill('SIGKILL');
      await scratch.drop();
    }
  });

  test('when migrations have finished, then no session of that database still holds a lock or sits in a transaction', async () => {
    const scratch = await createScratchDatabase();
    const db = postgres(scratch.url);
    try {
      await migrateLatest(db);
      // Read directly on the server: a session lock taken through a transaction pooler would stay with the pooler's
      // server connection after the client that took it has gone.
      const leftovers = await adminQuery(
        `select a.pid, a.state, l.locktype from pg_stat_activity a
           left join pg_locks l on l.pid = a.pid and l.locktype = 'advisory'
          where a.datname = $1 and (l.pid is not null or a.state like 'idle in transaction%')`,
        [scratch.name],
      );
      expect(leftovers).toEqual([]);
    } finally {
      await db.destroy();
      await scratch.drop();
    }
  });
});

describe('statement timeout', () => {
  test("when the app asks for a statement timeout, then only its own sessions run under it (PgBouncer refuses it) and another client's session does not see it", async () => {
    const scratch = await createScratchDatabase();
    // One connection: behind the pooler, the other client then gets the server connection the app's session used.
    const db = postgres(scratch.url, { poolMax: 1, statementTimeoutMs: 1234 });
    const other = new pg.Client({ connectionString: scratch.url });
    await other.connect();
    try {
      const own = await db.raw('show statement_timeout').then(
        (result: { rows: { statement_timeout: string }[] }) => result.rows[0]?.statement_timeout,
        (err: Error) => err.message,
      );
      // PgBouncer cannot keep a setting per client in transaction mode, so it refuses the startup parameter rather
      // than let the value reach other clients (README, Deploying: the role's setting is used behind it).
      expect(own).toBe(throughPooler ? 'unsupported startup parameter: statement_timeout' : '1234ms');
      const [fresh] = await adminQuery<{ statement_timeout: string }>('show statement_timeout', [], scratch.name);
      const seen = await other.query<{ statement_timeout: string }>('show statement_timeout');
      expect(seen.rows[0]?.statement_timeout).toBe(fresh?.statement_timeout);
      expect(fresh?.statement_timeout).not.toBe('1234ms');
    } finally {
      await other.end();
      await db.destroy();
      await scratch.drop();
    }
  });

  test('when the app asks for none, then the statement timeout of its role in that database cancels a slow statement (the setting used behind PgBouncer)', async () => {
    const scratch = await createScratchDatabase();
    const role = decodeURIComponent(new URL(scratch.url).username) || 'postgres';
    await adminQuery(
      `ALTER ROLE ${pg.escapeIdentifier(role)} IN DATABASE ${scratch.name} SET statement_timeout = '300ms'`,
    );
    const db: Db = postgres(scratch.url, { statementTimeoutMs: 0 });
    try {
      const shown = (await db.raw('show statement_timeout')) as { rows: { statement_timeout: string }[] };
      expect(shown.rows[0]?.statement_timeout).toBe('300ms');
      const started = Date.now();
      await expect(db.raw('select pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await db.destroy();
      await scratch.drop();
    }
  });
});
