import 'dotenv/config';
import { migrationSource } from '../db/migrations';
import { DataDirInUseError } from '../src/data-access/data-dir-lock';
import { createDatabase, migrateLatest } from '../src/data-access/database';
import { ConfigError, loadConfig } from '../src/lib/config';

/** Applies pending migrations to the configured database. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDatabase(config.database);
  try {
    await migrateLatest(db);
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    console.log(`migrations applied (${config.database.kind}); pending: ${pending.length}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof DataDirInUseError ? err.message : err);
  process.exit(1);
});
