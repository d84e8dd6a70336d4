import { createDatabase, migrateLatest } from '../../src/data-access/database';
import { ensureBuilt } from './build';
import { startContractCoverage } from './contract-coverage';
import { saveTemplates } from './pglite-template';
import { statementTimeoutMs } from './pooler';

/**
 * Starts the run's contract coverage record, compiles `dist/` for the child processes when a source changed, makes the
 * embedded database templates (each embedded database of a test file or child process starts from a copy) and, on
 * PostgreSQL, migrates the shared test database once.
 */
export default async function globalSetup(): Promise<void> {
  startContractCoverage();
  ensureBuilt();
  const url = process.env.TEST_DATABASE_URL;
  await Promise.all([saveTemplates(), url && migratePostgres(url)]);
}

async function migratePostgres(url: string): Promise<void> {
  const db = createDatabase({
    kind: 'postgres',
    url,
    poolMin: 0,
    poolMax: 1,
    statementTimeoutMs: statementTimeoutMs(60_000),
    connectTimeoutMs: 5_000,
  });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}
