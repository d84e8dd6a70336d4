import { createClient } from 'redis';
import type { Logger } from './logger';

// While the connection is down commands fail at once instead of queueing.
const newClient = (url: string) => createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2_000 } });

export type RedisClient = ReturnType<typeof newClient>;

/** Connects to Redis, logging connection errors instead of crashing on them. */
export async function connectRedis(url: string, logger: Logger): Promise<RedisClient> {
  const client = newClient(url);
  client.on('error', (err: unknown) => {
    logger.warn('redis connection error', { error: err instanceof Error ? err.message : String(err) });
  });
  await client.connect();
  return client;
}
