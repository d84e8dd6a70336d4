import 'dotenv/config';
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { DataDirInUseError } from './data-access/data-dir-lock';
import { createDatabase, migrateLatest } from './data-access/database';
import { createApp, createHttpServer } from './http/app';
import { systemClock } from './lib/clock';
import { ConfigError, loadConfig, type Config } from './lib/config';
import { createLogger, type Logger } from './lib/logger';
import { connectRedis } from './lib/redis';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

// How far V8 lets the old generation grow past the live heap before the next full collection. Left adaptive (up to
// 4x), a server whose live heap is ~30-50 MB peaked at 240-280 MB of RSS under load; at 50% it peaked near 160 MB
// with no measurable loss of throughput (see README, Performance). A value given on the command line wins.
const HEAP_GROWING_PERCENT = 50;

/** Runs migrations once, then serves in this process or, with WEB_CONCURRENCY > 1, in that many cluster workers. */
async function main(): Promise<void> {
  if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) {
    v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
  const config = loadConfig();
  const logger = createLogger(config);
  if (cluster.isPrimary) {
    if (config.secretKeySource === 'random')
      logger.warn('SECRET_KEY is not set: using a random key, tokens die with this process');
    if (config.secretKeySource === 'data-dir')
      logger.info(`SECRET_KEY is not set: signing with the development key in ${config.dataDir}`);
    if (!config.mail.smtpUrl && !config.mail.logUndelivered)
      logger.warn('SMTP_URL is not set: password-reset emails cannot be delivered');
    const db = createDatabase(config.database, logger);
    await migrateLatest(db);
    if (config.webConcurrency > 1) {
      await db.destroy();
      return superviseWorkers(config, logger);
    }
    return serve(config, logger, db);
  }
  return serve(config, logger, createDatabase(config.database, logger));
}

async function serve(config: Config, logger: Logger, db: ReturnType<typeof createDatabase>): Promise<void> {
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  let draining = false;
  const app = createApp({ config, db, redis, logger, clock: systemClock, lifecycle: { isDraining: () => draining } });
  const server: Server = createHttpServer(app).listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    logger.info(`listening on http://${config.host}:${port} (database: ${config.database.kind})`, {
      port,
      pid: process.pid,
    });
  });
  // Bodies must arrive within the request timeout too, so a slow sender cannot hold a socket forever.
  server.requestTimeout = config.requestTimeoutMs + 5_000;

  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info(`${signal} received: draining`, { pid: process.pid });
    const force = setTimeout(() => {
      logger.warn('shutdown timeout reached: closing open connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    // close() stops accepting at once and lets in-flight requests finish; idle keep-alive sockets are closed.
    server.close(() => {
      clearTimeout(force);
      Promise.allSettled([db.destroy(), redis?.quit()]).then(
        () => {
          logger.info('shut down', { pid: process.pid });
          process.exit(0);
        },
        () => process.exit(1),
      );
    });
    server.closeIdleConnections();
  };
  for (const signal of SIGNALS) process.on(signal, () => shutdown(signal));
}

const CRASH_WINDOW_MS = 10_000;
const MAX_CRASHES_IN_WINDOW = 5;

function superviseWorkers(config: Config, logger: Logger): void {
  let stopping = false;
  let crashes: number[] = [];
  const fork = () => cluster.fork();
  for (let i = 0; i < config.webConcurrency; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    crashes = [...crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    // A worker that dies at once (bad environment, unreachable dependency) must not be restarted in a hot loop.
    if (crashes.length > MAX_CRASHES_IN_WINDOW) {
      logger.error('workers keep dying: giving up', { crashes: crashes.length });
      process.exit(1);
    }
    logger.error('worker died: starting a replacement', { worker_pid: worker.process.pid, code, signal });
    fork();
  });
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal} received: stopping ${config.webConcurrency} workers`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    });
  }
  logger.info(`primary ${process.pid} started ${config.webConcurrency} workers`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof DataDirInUseError ? err.message : err);
  process.exit(1);
});
