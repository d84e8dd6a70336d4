import { createDatabase, migrateLatest } from '../../src/data-access/database';

/** Migrates the shared PostgreSQL test database once; embedded runs migrate a fresh in-memory database per file. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const db = createDatabase({
    kind: 'postgres',
    url,
    poolMin: 0,
    poolMax: 1,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
  });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}
