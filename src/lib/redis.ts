import type { createClient } from 'redis';
import type { Logger } from './logger';

// Loaded on first use: the client library takes a few hundred milliseconds to load, and most processes never need it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadRedis = () => require('redis') as { createClient: typeof createClient };

// While the connection is down commands fail at once instead of queueing.
const newClient = (url: string) =>
  loadRedis().createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2_000 } });

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
