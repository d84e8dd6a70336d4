import type { Db } from '../data-access/database';
import type { Clock } from '../lib/clock';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { RedisClient } from '../lib/redis';

/** Everything the app needs from outside; built by `server.ts`, or by tests with their own pieces. */
export type AppDeps = {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  lifecycle: { isDraining: () => boolean };
  /** Set when REDIS_URL is: shared state across processes (rate limits). */
  redis?: RedisClient;
};
