import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { DataDirInUseError } from './data-access/data-dir-lock';
import { createDatabase, DatabaseConnectionError, migrateLatest } from './data-access/database';
import { createApp, createHttpServer } from './http/app';
import { createDrain } from './http/middleware/drain';
import { systemClock } from './lib/clock';
import { ConfigError, loadConfig, withoutPassword, type Config } from './lib/config';
import { createLogger, type Logger } from './lib/logger';
import { closeRedis, connectRedis } from './lib/redis';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** A start-up failure the operator can fix from its one-line message (a taken port, a database that refuses). */
class StartupError extends Error {}

// What a worker that cannot start tells the primary, which then stops them all instead of restarting them.
type StartupFailed = { startupFailed: string };
/**
 * The exit code of a worker that could not start (EX_CONFIG). The primary decides on it, not on the message: the
 * worker's exit can reach the primary before the message it sent just before exiting.
 */
export const STARTUP_FAILED_EXIT_CODE = 78;
const isStartupFailed = (message: unknown): message is StartupFailed =>
  typeof (message as Partial<StartupFailed> | null)?.startupFailed === 'string';

// How far V8 lets the old generation grow past the live heap before the next full collection. Left adaptive (up to
// 4x), a server whose live heap is ~30-50 MB peaked at 240-280 MB of RSS under load; at 50% it peaked near 160 MB
// with no measurable loss of throughput (see README, Performance). A value given on the command line wins.
const HEAP_GROWING_PERCENT = 50;

/**
 * What the entry point hands the server when tracing is on: `flush` runs at shutdown, beside closing the database
 * and Redis, and `tracing` sends every log line through winston, whose instrumentation adds the trace id.
 */
export type ProcessHooks = { flush?: () => Promise<void>; tracing?: boolean };

/** Runs migrations once, then serves in this process or, with WEB_CONCURRENCY > 1, in that many cluster workers. */
export async function main(hooks: ProcessHooks = {}): Promise<void> {
  if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) {
    v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
  const config = loadConfig();
  const logger = createLogger(config, undefined, { viaWinston: hooks.tracing });
  if (cluster.isPrimary) {
    if (config.secretKeySource === 'random')
      logger.warn('SECRET_KEY is not set: using a random key, tokens die with this process');
    if (config.secretKeySource === 'data-dir')
      logger.info(`SECRET_KEY is not set: signing with the development key in ${config.dataDir}`);
    if (!config.mail.smtpUrl && !config.mail.logUndelivered)
      logger.warn('SMTP_URL is not set: password-reset emails cannot be delivered');
    const db = createDatabase(config.database, logger);
    await migrateLatest(db).catch((err: unknown) => {
      if (!(err instanceof DatabaseConnectionError) || config.database.kind !== 'postgres') throw err;
      throw new StartupError(`cannot connect to DATABASE_URL ${withoutPassword(config.database.url)}: ${err.message}`);
    });
    if (config.webConcurrency > 1) {
      await db.destroy();
      return superviseWorkers(config.webConcurrency, logger);
    }
    return serve(config, logger, db, hooks);
  }
  return serve(config, logger, createDatabase(config.database, logger), hooks);
}

async function serve(
  config: Config,
  logger: Logger,
  db: ReturnType<typeof createDatabase>,
  hooks: ProcessHooks,
): Promise<void> {
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  const lifecycle = { isDraining: () => drain.draining };
  const server: Server = createHttpServer(createApp({ config, db, redis, logger, clock: systemClock, lifecycle }));
  // Bodies must arrive within the request timeout too, so a slow sender cannot hold a socket forever.
  server.requestTimeout = config.requestTimeoutMs + 5_000;
  const drain = createDrain(server, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs, logger });
  const { port } = await listen(server, config);
  logger.info(`listening on http://${config.host}:${port} (database: ${config.database.kind})`, {
    port,
    pid: process.pid,
  });

  const shutdown = (signal: string) => {
    if (drain.draining) return;
    const drained = drain.start();
    logger.info(`${signal} received: draining`, {
      pid: process.pid,
      delay_ms: config.shutdownDelayMs,
      timeout_ms: config.shutdownTimeoutMs,
    });
    drained
      .then(() => Promise.allSettled([db.destroy(), redis && closeRedis(redis), hooks.flush?.()]))
      .then(
        () => {
          logger.info('shut down', { pid: process.pid });
          process.exit(0);
        },
        () => process.exit(1),
      );
  };
  for (const signal of SIGNALS) process.on(signal, () => shutdown(signal));
}

/** Listens on HOST:PORT; a port that is taken or not ours to open is a StartupError naming it. */
function listen(server: Server, config: Config): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          err.code === 'EADDRINUSE'
            ? `PORT ${config.port} is already in use on ${config.host}: set PORT to a free port`
            : `cannot listen on ${config.host}:${config.port} (HOST, PORT): ${err.code ?? err.message}`,
        ),
      );
    server.once('error', failed);
    server.listen(config.port, config.host, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

const CRASH_WINDOW_MS = 10_000;
const MAX_CRASHES_IN_WINDOW = 5;

/**
 * Runs `count` cluster workers: a crashed one is replaced (unless they keep dying), a worker that could not start
 * stops them all with exit 1, and SIGTERM or SIGINT stops them all with exit 0.
 */
export function superviseWorkers(count: number, logger: Logger): void {
  let stopping = false;
  let exitCode = 0;
  let reason: string | undefined;
  let crashes: number[] = [];
  const fork = () => cluster.fork();
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  // A worker leaves cluster.workers once it has both exited and disconnected, in either order; its messages are all
  // read by then, so the reason a worker gave is known before the primary exits.
  const exitOnceAllGone = () => {
    if (!stopping || Object.keys(cluster.workers ?? {}).length > 0) return;
    if (exitCode !== 0 && reason === undefined) logger.error('a worker could not start: stopping');
    process.exit(exitCode);
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on('message', (_worker, message: unknown) => {
    if (!isStartupFailed(message)) return;
    // Every worker would fail the same way: say it once and stop, rather than restart them in a loop.
    if (reason === undefined) console.error((reason = message.startupFailed));
    stop(1);
  });
  cluster.on('disconnect', exitOnceAllGone);
  cluster.on('exit', (worker, code, signal) => {
    if (code === STARTUP_FAILED_EXIT_CODE) stop(1);
    if (stopping) {
      if (code !== 0 && code !== null) exitCode = 1;
      return exitOnceAllGone();
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
      if (!stopping) logger.info(`${signal} received: stopping ${count} workers`);
      stop(0);
    });
  }
  logger.info(`primary ${process.pid} started ${count} workers`);
}

/** Reports why the process could not start (one line when the operator can fix it from that) and exits 1. */
export function exitOnStartupError(err: unknown): void {
  if (err instanceof StartupError && cluster.isWorker && process.send) {
    process.send({ startupFailed: err.message } satisfies StartupFailed, () => process.exit(STARTUP_FAILED_EXIT_CODE));
    return;
  }
  console.error(
    err instanceof ConfigError || err instanceof StartupError || err instanceof DataDirInUseError ? err.message : err,
  );
  process.exit(1);
}
