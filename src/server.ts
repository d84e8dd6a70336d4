import 'dotenv/config';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDatabase, migrateLatest } from './data-access/database';
import { createApp } from './http/app';
import { systemClock } from './lib/clock';
import { ConfigError, loadConfig } from './lib/config';
import { createLogger } from './lib/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  if (config.secretKeySet === false)
    logger.warn('SECRET_KEY is not set: using a random key, tokens die with this process');
  const db = createDatabase(config.database);
  await migrateLatest(db);
  let draining = false;
  const app = createApp({ config, db, logger, clock: systemClock, lifecycle: { isDraining: () => draining } });
  const server: Server = app.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    logger.info(`listening on http://${config.host}:${port} (database: ${config.database.kind})`, { port });
  });

  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info(`${signal} received: draining`);
    server.close(() => {
      db.destroy().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
