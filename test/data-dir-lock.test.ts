import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_DIR_LOCK_FILE } from '../src/data-access/data-dir-lock';
import { insertProduct } from '../src/data-access/products-repository';
import { insertUser } from '../src/data-access/users-repository';
import { createDatabase, migrateLatest, written, type Db } from '../src/data-access/database';
import { hashPassword } from '../src/domain/users/passwords';
import { VALID_PASSWORD } from './support/factories';
import { dataInvariantViolations } from './support/invariants';
import { migratedDataDir } from './support/pglite-template';
import { startProcess, startServer, waitForOutput, type ServerProcess } from './support/processes';
import { unique } from './support/test-app';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(180_000);

const dirs: string[] = [];
const children: ServerProcess[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-lock-'));
  dirs.push(dir);
  return dir;
};
const open = (dataDir: string): Db => createDatabase({ kind: 'pglite', dataDir });
/** Opens the data directory in this process for `use`, and closes it (releasing its lock) afterwards. */
async function withDb<T>(dataDir: string, use: (db: Db) => Promise<T>): Promise<T> {
  const db = open(dataDir);
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

/**
 * A migrated data directory of its own: creating an embedded database takes long on a busy machine, so most tests
 * start from a copy of the run's migrated one.
 */
const migratedDir = () => {
  const dir = migratedDataDir('api-lock-');
  dirs.push(dir);
  return dir;
};
const track = (child: ServerProcess) => {
  children.push(child);
  return child;
};
const server = (dataDir: string, env: Record<string, string> = {}) =>
  track(startServer({ DATA_DIR: dataDir, BCRYPT_ROUNDS: '4', ...env }));
const script = (entry: string, dataDir: string, env: Record<string, string> = {}) =>
  track(startProcess(entry, { DATA_DIR: dataDir, LOG_FORMAT: 'json', ...env }));
const waitForPort = async (child: ServerProcess) => Number((await waitForOutput(child, /"port":(\d+)/, 90_000))[1]);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.child.kill('SIGKILL');
    await child.exited;
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** The exit code, or 'still running' when the process has not exited by the deadline. */
async function exitCode(child: ServerProcess, timeoutMs = 60_000): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still running'>(
    (resolve) => (timer = setTimeout(() => resolve('still running'), timeoutMs)),
  );
  try {
    return await Promise.race([child.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The lines of a refused process's output that name DATA_DIR as in use. */
const refusals = (child: ServerProcess, dataDir: string) =>
  child
    .output()
    .split('\n')
    .filter((line) => line.includes(`DATA_DIR ${path.resolve(dataDir)} is in use`));

describe('one process per embedded data directory', () => {
  test('when a data directory is open in this process, then opening it again throws naming DATA_DIR and this pid, and after destroy it opens again', async () => {
    const dataDir = migratedDir();
    const first = open(dataDir);
    await migrateLatest(first);
    expect(() => open(dataDir)).toThrow(
      new RegExp(`^DATA_DIR ${escape(path.resolve(dataDir))} is in use by pid ${process.pid} \\(`),
    );
    await first.destroy();
    const again = open(dataDir);
    try {
      expect((await again.raw('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await again.destroy();
    }
  });

  test('when the holder has not named itself in the lock file, then the refusal still names DATA_DIR, with the pid unknown', async () => {
    const dataDir = migratedDir();
    await withDb(dataDir, async (holder) => {
      await migrateLatest(holder);
      // Rewriting the file's content leaves the lock itself, which belongs to the open file, in place.
      fs.writeFileSync(path.join(dataDir, DATA_DIR_LOCK_FILE), 'not a record');
      expect(() => open(dataDir)).toThrow(
        `DATA_DIR ${path.resolve(dataDir)} is in use by another process (pid unknown): `,
      );
    });
  });

  test('when a server holds DATA_DIR, then a seed, a migration and a second server on it exit non-zero naming DATA_DIR and the holder, and write nothing', async () => {
    const dataDir = migratedDir();
    const holder = server(dataDir);
    await waitForPort(holder);
    const email = `${unique('seed')}@example.com`.toLowerCase();

    const contenders = [
      script('scripts/seed.ts', dataDir, { FIRST_SUPERUSER_EMAIL: email, FIRST_SUPERUSER_PASSWORD: VALID_PASSWORD }),
      script('scripts/migrate.ts', dataDir),
      server(dataDir),
    ];
    expect(await Promise.all(contenders.map((child) => exitCode(child)))).toEqual([1, 1, 1]);
    for (const child of contenders) {
      expect(refusals(child, dataDir)).toEqual([
        expect.stringMatching(new RegExp(`in use by pid ${holder.child.pid} \\(node .*src/server\\.js, since `)),
      ]);
      expect(child.output()).not.toMatch(/^\s+at /m);
    }
    expect(contenders[0]?.output()).not.toContain('first superuser created');

    holder.child.kill('SIGTERM');
    expect(await exitCode(holder)).toBe(0);
    expect(await withDb(dataDir, (db) => db('users').where({ email }).first())).toBeUndefined();
  });

  test('when the holder was killed with SIGKILL, then a migration and a new server on the same DATA_DIR start without waiting', async () => {
    const dataDir = migratedDir();
    const killed = server(dataDir);
    await waitForPort(killed);
    killed.child.kill('SIGKILL');
    expect(await exitCode(killed)).toBeNull();

    const migrate = script('scripts/migrate.ts', dataDir);
    expect(await exitCode(migrate)).toBe(0);
    expect(migrate.output()).toContain('migrations applied (pglite); pending: 0');
    const next = server(dataDir);
    const res = await fetch(`http://127.0.0.1:${await waitForPort(next)}/health`);
    expect(res.status).toBe(200);
    next.child.kill('SIGTERM');
    expect(await exitCode(next)).toBe(0);
  });

  test('when two servers start at once on a fresh DATA_DIR, then exactly one serves and the other exits non-zero naming it', async () => {
    const dataDir = path.join(tempDir(), 'fresh');
    const both = [server(dataDir), server(dataDir)] as const;
    const codes: (number | null | undefined)[] = [undefined, undefined];
    both.forEach((child, i) => void child.exited.then((code) => (codes[i] = code)));
    const listening = (i: number) => /"port":\d+/.test(both[i]?.output() ?? '');
    const deadline = Date.now() + 90_000;
    // Settled: both listen (two writers: the failure this guards against), or one exited and the other listens.
    while (!(listening(0) && listening(1)) && !(codes.some((c) => c !== undefined) && (listening(0) || listening(1)))) {
      if (Date.now() > deadline || codes.every((c) => c !== undefined)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const winner = listening(0) ? 0 : 1;
    const loser = 1 - winner;
    expect([listening(winner), listening(loser)]).toEqual([true, false]);
    expect(codes[loser]).toBe(1);
    expect(refusals(both[loser] as ServerProcess, dataDir)).toEqual([
      expect.stringContaining(`in use by pid ${both[winner]?.child.pid} (`),
    ]);
    const res = await fetch(`http://127.0.0.1:${await waitForPort(both[winner] as ServerProcess)}/health`);
    expect(res.status).toBe(200);
  });

  test('when the server is killed with SIGKILL in the middle of order writes, then after a restart every acknowledged order is there with its items and no order lacks items', async () => {
    const dataDir = migratedDir();
    const username = unique('buyer');
    const { userId, productIds } = await withDb(dataDir, async (setup) => {
      await migrateLatest(setup);
      const user = await insertUser(setup, {
        email: `${username}@example.com`,
        username,
        fullName: null,
        hashedPassword: await hashPassword(VALID_PASSWORD, 4),
      });
      const product = (name: string) =>
        insertProduct(setup, {
          name: unique(name),
          description: null,
          priceCents: 1000,
          currency: 'EUR',
          stock: 1_000_000,
          categoryId: null,
          isActive: true,
        });
      return {
        userId: written(user).id,
        productIds: [written(await product('Kettle ')), written(await product('Lid '))] as const,
      };
    });

    const login = async (base: string) => {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: VALID_PASSWORD }),
      });
      expect(res.status).toBe(200);
      return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
    };

    const first = server(dataDir);
    const firstBase = `http://127.0.0.1:${await waitForPort(first)}`;
    const auth = await login(firstBase);
    const acknowledged: number[] = [];
    const failures: string[] = [];
    let stopped = false;
    let interrupted = 0;
    // Four writers, each on its own connection, until the server dies under them.
    const writer = async () => {
      while (!stopped) {
        try {
          const res = await fetch(`${firstBase}/api/v1/orders`, {
            method: 'POST',
            headers: { ...auth, 'Content-Type': 'application/json', Connection: 'close' },
            body: JSON.stringify({
              items: [
                { product_id: productIds[0], quantity: 1 },
                { product_id: productIds[1], quantity: 2 },
              ],
            }),
          });
          if (res.status !== 201) failures.push(`order answered ${res.status}: ${await res.text()}`);
          else acknowledged.push(((await res.json()) as { id: number }).id);
        } catch (err) {
          if (stopped) interrupted++;
          else failures.push(String(err));
        }
        if (failures.length > 0) return;
      }
    };
    const writers = Promise.all([writer(), writer(), writer(), writer()]);
    const deadline = Date.now() + 60_000;
    while (acknowledged.length < 20 && failures.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    stopped = true;
    await writers;
    expect(failures).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    // The kill cut requests that were under way.
    expect(interrupted).toBeGreaterThan(0);
    expect(await exitCode(first)).toBeNull();

    const restarted = server(dataDir);
    const base = `http://127.0.0.1:${await waitForPort(restarted)}`;
    const again = await login(base);
    for (const id of acknowledged) {
      const res = await fetch(`${base}/api/v1/orders/${id}`, { headers: again });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { product_id: number; quantity: number }[]; total_cents: number };
      const lines = body.items
        .map((item) => [item.product_id, item.quantity])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(lines).toEqual([
        [productIds[0], 1],
        [productIds[1], 2],
      ]);
      expect(body.total_cents).toBe(3000);
    }
    restarted.child.kill('SIGTERM');
    expect(await exitCode(restarted)).toBe(0);

    await withDb(dataDir, async (db) => {
      expect(await dataInvariantViolations(db, { userIds: [userId] })).toEqual([]);
      const stored = await db('orders').where({ user_id: userId }).pluck('id');
      expect(stored).toEqual(expect.arrayContaining(acknowledged));
    });
  });
});
