import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { AppError } from '../lib/errors';
import type { AppDeps } from './deps';

const WINDOW_MS = 60_000;

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The limiter of the operations marked `x-rate-limit: auth` in the spec: it limits them per client IP to AUTH_RATE_LIMIT_PER_MINUTE, together.
 * The counts live in memory, or in Redis when the app has a client, so that the limit holds across processes.
 * Over the limit it is 429 RATE_LIMITED.
 */
export function authRateLimiter(deps: Pick<AppDeps, 'config' | 'logger' | 'redis'>): RequestHandler {
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
          sendCommand: (...args: string[]) => redis.sendCommand<RedisReply>(args),
        })
      : undefined,
    // With Redis down, logins go on without a limit (the per-account lockout still holds) rather than all failing.
    passOnStoreError: true,
    logger: {
      warn: (error, message) => deps.logger.warn(message ?? 'rate limiter warning', { error: describe(error) }),
      error: (error, message) => deps.logger.error(message ?? 'rate limiter error', { error: describe(error) }),
    },
    handler: (req, _res, next) => {
      const resetTime = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      next(new AppError('RATE_LIMITED', 'Too many requests; retry later.', undefined, seconds));
    },
  });
  return limiter;
}
