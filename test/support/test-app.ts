import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Transport from 'winston-transport';
import supertest from 'supertest';
import { createDatabase, migrateLatest, type Db } from '../../src/data-access/database';
import { createApp, createHttpServer } from '../../src/http/app';
import type { AppDeps } from '../../src/http/deps';
import { loadConfig, type Config } from '../../src/lib/config';
import { createLogger, type Logger } from '../../src/lib/logger';
import type { Clock } from '../../src/lib/clock';
import { recordContractCoverage } from './contract-coverage';
import { migratedTemplate } from './pglite-template';
import { throughPooler } from './pooler';

/** A winston transport that keeps every log entry in memory, so tests can read what was logged. */
export class MemoryTransport extends Transport {
  readonly entries: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.entries.push(info);
    next();
  }
}

/** A logger that keeps what it is told in memory, for pieces built outside startTestApp. */
export function memoryLogger() {
  return createLogger({ logLevel: 'debug', logFormat: 'json' }, [new MemoryTransport()]);
}

/** A clock tests can move by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date()) {}
  now = () => new Date(this.current);
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** The test configuration: the real loader over a test environment plus overrides. */
export function testConfig(env: Record<string, string> = {}): Config {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    DATA_DIR: ':memory:',
    SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    BCRYPT_ROUNDS: '4',
    // High enough that no suite trips it by accident; the rate limit tests lower it.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, DB_POOL_MIN: '0' } : {}),
    ...(databaseUrl && throughPooler ? { DB_STATEMENT_TIMEOUT_MS: '0' } : {}),
    ...env,
  });
}

export type TestApp = {
  request: supertest.Agent;
  server: Server;
  url: string;
  db: Db;
  deps: AppDeps;
  logs: MemoryTransport;
  clock: ManualClock;
  close: () => Promise<void>;
};

/**
 * Starts the real app on port 0 over a real database: PostgreSQL when TEST_DATABASE_URL is set, else PGlite in memory.
 * A database given in `deps.db` is used as it is and stays the caller's: `close()` destroys only a database that
 * startTestApp opened itself.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; deps?: Partial<AppDeps> } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const logs = new MemoryTransport();
  const logger = createLogger(config, [logs]);
  const given = options.deps?.db;
  const db = given ?? (await openTestDatabase(config, logger));
  const clock = new ManualClock();
  const deps: AppDeps = { config, db, logger, clock, lifecycle: { isDraining: () => false }, ...options.deps };
  const server = createHttpServer(createApp(deps)).listen(0, '127.0.0.1');
  recordContractCoverage(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    request: supertest.agent(url),
    server,
    url,
    db,
    deps,
    logs,
    clock,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!given) await db.destroy();
    },
  };
}

async function openTestDatabase(config: Config, logger: Logger): Promise<Db> {
  const db = createDatabase(config.database, logger, migratedTemplate());
  // A copy of the run's migrated template has nothing to apply; this keeps a run without one working.
  if (config.database.kind === 'pglite') await migrateLatest(db);
  return db;
}

let counter = 0;
/** A value unique across parallel test files and runs, for rows that must not collide. */
export function unique(prefix = 'x'): string {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter}`;
}
