import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { AppError } from '../../lib/errors';
import { sendWithin } from '../../lib/redis';
import type { AppDeps } from '../deps';
import type { Metrics } from './metrics';

const WINDOW_MS = 60_000;

const scriptSha = (script: string) => createHash('sha1').update(script).digest('hex');

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The limiter of the operations marked `x-rate-limit: auth` in the spec: it limits them per client IP to AUTH_RATE_LIMIT_PER_MINUTE, together.
 * The counts live in memory, or in Redis when the app has a client, so that the limit holds across processes.
 * Over the limit it is 429 RATE_LIMITED.
 */
export function authRateLimiter(
  deps: Pick<AppDeps, 'config' | 'logger' | 'redis'> & { metrics?: Pick<Metrics, 'countRateLimitStoreError'> },
): RequestHandler {
  const { rateLimitPerMinute, rateLimitRedisPrefix } = deps.config.auth;
  const redis = deps.redis;
  const limiter = rateLimit({
    windowMs: WINDOW_MS,
    limit: rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'auth',
    store: redis
      ? new RedisStore({
          prefix: rateLimitRedisPrefix,
          // Every failure (Redis down, or frozen past the timeout) is counted; the limiter then lets the request in.
          sendCommand: (...args: string[]) =>
            sendWithin<RedisReply>(redis, args).catch((err: unknown) => {
              deps.metrics?.countRateLimitStoreError();
              // The store loads its scripts once, at start-up, and would keep a failed load for ever: with Redis down
              // then, it could never limit. SCRIPT LOAD answers the script's SHA-1, so answer that; once Redis is
              // back, its first EVALSHA gets NOSCRIPT and the store loads the script for real.
              if (args[0] === 'SCRIPT' && args[1] === 'LOAD' && args[2] !== undefined) return scriptSha(args[2]);
              throw err;
            }),
        })
      : undefined,
    // With Redis down, logins go on without a limit (the per-account lockout still holds) rather than all failing;
    // express-rate-limit reports each such request through `logger.error`, which is a warning here, not an error.
    passOnStoreError: true,
    logger: {
      warn: (error, message) => deps.logger.warn(message ?? 'rate limiter warning', { error: describe(error) }),
      error: (error, message) => deps.logger.warn(message ?? 'rate limiter error', { error: describe(error) }),
    },
    handler: (req, _res, next) => {
      const resetTime = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      next(new AppError('RATE_LIMITED', 'Too many requests; retry later.', undefined, seconds));
    },
  });
  return limiter;
}
