import type { createClient } from 'redis';
import type { Logger } from './logger';

// Loaded on first use: the client library takes a few hundred milliseconds to load, and most processes never need it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadRedis = () => require('redis') as { createClient: typeof createClient };

/** How long a Redis command may take before its caller gives up on it (the rate limiter then fails open). */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

// While the connection is down commands fail at once instead of queueing; reconnects back off up to 5 s apart.
const newClient = (url: string) =>
  loadRedis().createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000) },
  });

export type RedisClient = ReturnType<typeof newClient>;

/**
 * Creates the Redis client and connects it in the background, so that a server whose Redis is down still starts and
 * serves: until the client connects (and while it reconnects) its commands fail at once. Connection errors are
 * logged as warnings, never thrown.
 */
export function connectRedis(url: string, logger: Logger): RedisClient {
  const client = newClient(url);
  client.on('error', (err: unknown) => {
    logger.warn('redis connection error', { error: err instanceof Error ? err.message : String(err) });
  });
  client.on('ready', () => logger.info('redis connected'));
  client.connect().catch((err: unknown) => {
    logger.warn('redis connection given up', { error: err instanceof Error ? err.message : String(err) });
  });
  return client;
}

/**
 * Sends one command and rejects if no reply comes within `timeoutMs`. node-redis's own command timeout ends once the
 * command is written, so a frozen server (one that accepts and never answers) would hold the caller for ever.
 */
export function sendWithin<T>(client: RedisClient, args: string[], timeoutMs = REDIS_COMMAND_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis: no reply within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([client.sendCommand<T>(args), deadline]).finally(() => clearTimeout(timer));
}

/** Closes the client: politely when it is connected, at once when it is still trying to connect. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.isReady) {
    await client.quit();
    return;
  }
  client.destroy();
  // A connection attempt already under way still completes after destroy(), and would keep the process alive.
  client.once('ready', () => client.destroy());
}
