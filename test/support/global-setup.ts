import { createDatabase, migrateLatest } from '../../src/data-access/database';
import { startContractCoverage } from './contract-coverage';
import { saveMigratedTemplate } from './pglite-template';
import { statementTimeoutMs } from './pooler';

/**
 * Starts the run's contract coverage record, then migrates the shared PostgreSQL test database once; embedded runs
 * migrate one in-memory database once and each file starts from a copy of it.
 */
export default async function globalSetup(): Promise<void> {
  startContractCoverage();
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return saveMigratedTemplate();
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
