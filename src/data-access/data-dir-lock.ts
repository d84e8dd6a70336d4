import fs from 'node:fs';
import path from 'node:path';

/** The file in DATA_DIR that carries the lock and names its holder. */
export const DATA_DIR_LOCK_FILE = 'datadir.lock';

/** Who holds a data directory, as its holder wrote it into the lock file. */
export type DataDirHolder = { pid: number; command: string; since: string };

/** Thrown when another open database (in this process or another) holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder | undefined,
  ) {
    const who = holder
      ? `pid ${holder.pid} (${holder.command}, since ${holder.since})`
      : 'another process (pid unknown)';
    super(
      `DATA_DIR ${dataDir} is in use by ${who}: the embedded database allows one process per data directory; ` +
        'stop that process, or use another DATA_DIR or DATABASE_URL',
    );
    this.name = 'DataDirInUseError';
  }
}

export type DataDirLock = { release: () => void };

// The library is native and only the embedded engine needs it, so it loads on first use.
function loadTryLock(): (fd: number) => boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('fs-native-extensions') as { tryLock: (fd: number) => boolean }).tryLock;
}

/**
 * Takes an exclusive lock on the data directory, or throws DataDirInUseError naming the holder. The lock is the
 * kernel's (an open-file-description lock on Linux, flock on macOS): it ends when release() closes the file or the
 * process dies, even by SIGKILL, so there is no stale lock to detect and no race in recovering one. The lock file
 * itself is never removed: a process waiting on the old file while a new one is created could hold a second lock.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, DATA_DIR_LOCK_FILE);
  // Opened without truncating: until the lock is granted, the content is the holder's.
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  let granted = false;
  try {
    granted = loadTryLock()(fd);
  } finally {
    if (!granted) fs.closeSync(fd);
  }
  if (!granted) throw new DataDirInUseError(dataDir, currentHolder(file));
  const me: DataDirHolder = {
    pid: process.pid,
    command: [path.basename(process.execPath), ...process.argv.slice(1)].join(' '),
    since: new Date().toISOString(),
  };
  const record = Buffer.from(`${JSON.stringify(me)}\n`);
  fs.writeSync(fd, record, 0, record.length, 0);
  fs.ftruncateSync(fd, record.length);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      fs.closeSync(fd);
    },
  };
}

const HOLDER_WAIT_MS = 1_000;

/**
 * The holder named in the lock file. A holder writes its record just after the lock is granted, so for a moment
 * the file may still be empty or name a process that died: wait briefly for a record that names a live process.
 */
function currentHolder(file: string): DataDirHolder | undefined {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const holder = readHolder(file);
    if ((holder && isAlive(holder.pid)) || Date.now() >= deadline) return holder;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function readHolder(file: string): DataDirHolder | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DataDirHolder>;
    if (!Number.isInteger(value.pid) || typeof value.command !== 'string' || typeof value.since !== 'string')
      return undefined;
    return value as DataDirHolder;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
