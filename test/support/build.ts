import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
// The same stamp and sources as `make build`.
const STAMP = path.join(ROOT, 'dist', '.tsbuildinfo');
const SOURCE_DIRS = ['src', 'db', 'scripts'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

function newestSource(): number {
  let newest = 0;
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) visit(path.join(ROOT, dir));
  for (const config of CONFIGS) newest = Math.max(newest, fs.statSync(path.join(ROOT, config)).mtimeMs);
  return newest;
}

/**
 * Compiles `dist/` when a source is newer than the last build (called from the global setup), so the child processes
 * that run compiled entry points run the code under test; nothing to do costs a directory walk.
 */
export function ensureBuilt(): void {
  if (fs.existsSync(STAMP) && fs.statSync(STAMP).mtimeMs >= newestSource()) return;
  const tsc = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  // 2: type errors, with the output written all the same (`make check` reports them); anything else wrote nothing.
  if (tsc.status !== 0 && tsc.status !== 2) {
    throw new Error(`the build for the child processes failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  // tsc leaves the build info untouched when no output changed (a comment edited back, say).
  const now = new Date();
  fs.utimesSync(STAMP, now, now);
}

/**
 * Where the build puts an entry point of `src/` or `scripts/` (relative to the project, like the entry): compiled, it
 * starts ~1 s of CPU sooner than through tsx, and the suite starts dozens. The global setup keeps `dist/` up to date.
 * Anything else (a test fixture) is returned as it is.
 */
export function compiledEntry(entry: string): string {
  return /^(src|scripts)\/.*\.ts$/.test(entry) ? path.join('dist', entry.replace(/\.ts$/, '.js')) : entry;
}
