import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Extension, PGlite } from '@electric-sql/pglite';
import { createDatabase, migrateLatest } from '../../src/data-access/database';

const FOLDER_VARIABLE = 'PGLITE_TEMPLATES_DIR';
const MIGRATED_TARBALL = 'migrated.tar';
const EMPTY_TARBALL = 'empty.tar';
const MIGRATED_DIR = 'migrated';

/**
 * Makes this run's embedded database templates (called from the global setup): a new cluster plus the migrations
 * take seconds per test file or child server on a slow machine, a copy of a template a fraction of that.
 * - the migrated data directory as a tarball, for in-memory databases (startTestApp);
 * - the same before the migrations, for tests that need a database with no tables;
 * - the migrated data directory on disk, for child processes started with DATA_DIR.
 */
export async function saveTemplates(): Promise<void> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-templates-'));
  const db = createDatabase({ kind: 'pglite', dataDir: ':memory:' });
  try {
    const { pglite } = (db.client as { config: { connection: () => { pglite: PGlite } } }).config.connection();
    await pglite.waitReady;
    // Uncompressed: gzip would cost more to undo in every file than reading the larger file does.
    fs.writeFileSync(path.join(folder, EMPTY_TARBALL), await tarball(pglite));
    await migrateLatest(db);
    const migrated = await tarball(pglite);
    fs.writeFileSync(path.join(folder, MIGRATED_TARBALL), migrated);
    await writeDataDir(path.join(folder, MIGRATED_DIR), new Blob([migrated]));
    process.env[FOLDER_VARIABLE] = folder;
  } finally {
    await db.destroy();
  }
}

async function tarball(pglite: PGlite): Promise<Buffer> {
  return Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer());
}

/** Unpacks a data directory tarball into `dataDir` the way the engine itself does, with the app's extension. */
async function writeDataDir(dataDir: string, from: Blob): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { PGlite: Engine } = require('@electric-sql/pglite') as { PGlite: typeof PGlite };
  // The package declares its contrib entries' types for ES modules only; its CommonJS build is what loads here.
  const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const startParams = [...Engine.defaultStartParams, '-c', 'shared_buffers=8MB'];
  const engine = new Engine({ dataDir, extensions: { pg_trgm }, loadDataDir: from, startParams });
  await engine.waitReady;
  await engine.close();
}

function templateFile(name: string): string | undefined {
  const folder = process.env[FOLDER_VARIABLE];
  return folder && path.join(folder, name);
}

// Read once per test file: a Blob is immutable, and a file that starts several apps would read ~30 MB for each.
const tarballs = new Map<string, Blob>();
const readTarball = (name: string): Blob | undefined => {
  const file = templateFile(name);
  if (!file) return undefined;
  const blob = tarballs.get(file) ?? new Blob([fs.readFileSync(file)]);
  tarballs.set(file, blob);
  return blob;
};

/** The run's migrated data directory tarball, when the global setup made one. */
export function migratedTemplate(): Blob | undefined {
  return readTarball(MIGRATED_TARBALL);
}

/** The run's new cluster (no migrations, so no tables of the app) as a tarball, when the global setup made one. */
export function emptyClusterTemplate(): Blob | undefined {
  return readTarball(EMPTY_TARBALL);
}

/**
 * A new directory under the system's temporary folder holding a copy of the run's migrated data directory, for a
 * child process's DATA_DIR; the caller removes it.
 */
export function migratedDataDir(prefix = 'api-data-'): string {
  const template = templateFile(MIGRATED_DIR);
  if (!template) throw new Error(`${FOLDER_VARIABLE} is not set: the global setup makes the templates`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

/** Removes the run's templates (called from the global teardown). */
export function removeTemplates(): void {
  const folder = process.env[FOLDER_VARIABLE];
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
}
