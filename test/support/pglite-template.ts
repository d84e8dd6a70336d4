import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createDatabase, migrateLatest } from '../../src/data-access/database';

const FILE_VARIABLE = 'PGLITE_TEMPLATE_FILE';

/**
 * Migrates one in-memory PGlite and saves its data directory for this run (called from the global setup): a new
 * cluster plus the migrations take seconds per test file on a slow machine, a copy of this one a fraction of that.
 */
export async function saveMigratedTemplate(): Promise<void> {
  const db = createDatabase({ kind: 'pglite', dataDir: ':memory:' });
  try {
    await migrateLatest(db);
    const { pglite } = (db.client as { config: { connection: () => { pglite: PGlite } } }).config.connection();
    // Uncompressed: gzip would cost more to undo in every file than reading the larger file does.
    const tarball = await pglite.dumpDataDir('none');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-template-')), 'pgdata.tar');
    fs.writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
    process.env[FILE_VARIABLE] = file;
  } finally {
    await db.destroy();
  }
}

/** The run's migrated data directory tarball, when the global setup made one. */
export function migratedTemplate(): Blob | undefined {
  const file = process.env[FILE_VARIABLE];
  return file ? new Blob([fs.readFileSync(file)]) : undefined;
}

/** Removes the run's template (called from the global teardown). */
export function removeMigratedTemplate(): void {
  const file = process.env[FILE_VARIABLE];
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
