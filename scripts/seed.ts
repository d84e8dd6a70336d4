import 'dotenv/config';
import { seeds } from '../db/seeds';
import { DataDirInUseError } from '../src/data-access/data-dir-lock';
import { createDatabase, migrateLatest } from '../src/data-access/database';
import { ConfigError, loadConfig } from '../src/lib/config';
import { createLogger } from '../src/lib/logger';

/** Runs every seed step against the configured database (idempotent). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  const db = createDatabase(config.database);
  try {
    await migrateLatest(db);
    for (const seed of seeds) {
      await seed.run(db, config, logger);
      logger.info(`seed ${seed.name} done`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof DataDirInUseError ? err.message : err);
  process.exit(1);
});
