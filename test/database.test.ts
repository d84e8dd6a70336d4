import { createDatabase, migrateLatest } from '../src/data-access/database';
import { createScratchDatabase } from './support/processes';

describe('migrations', () => {
  test('when several instances migrate a fresh PostgreSQL database at once, then all succeed and each migration runs once', async () => {
    const scratch = await createScratchDatabase();
    const config = {
      kind: 'postgres' as const,
      url: scratch.url,
      poolMin: 0,
      poolMax: 2,
      statementTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
    };
    const instances = [createDatabase(config), createDatabase(config), createDatabase(config)];
    try {
      await Promise.all(instances.map((db) => migrateLatest(db)));
      const [first] = instances as [ReturnType<typeof createDatabase>];
      const applied = await first('knex_migrations').select('name');
      const names = applied.map((row: { name: string }) => row.name);
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
    } finally {
      await Promise.all(instances.map((db) => db.destroy()));
      await scratch.drop();
    }
  });
});
