import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { AppError } from '../../lib/errors';
import { sendWithin } from '../../lib/redis';
import type { AppDeps } from '../deps';
import type { Metrics } from './metrics';

const WINDOW_MS = 60_000;

const scriptSha = (script: string) => createHash('sha1').update(script).digest('hex');

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

type LimiterDeps = Pick<AppDeps, 'config' | 'logger' | 'redis'> & {
  metrics?: Pick<Metrics, 'countRateLimitStoreError'>;
};

/**
 * The limiters of the rate-limit policies that the spec names in `x-rate-limit`, by name: `default` for every
 * operation that names no other (RATE_LIMIT_PER_MINUTE), `auth` for logging in and the like
 * (AUTH_RATE_LIMIT_PER_MINUTE). Which operation a policy limits is the spec's to say, not this module's.
 */
export function rateLimiters(deps: LimiterDeps): Record<string, RequestHandler> {
  const { perMinute, authPerMinute } = deps.config.rateLimit;
  return { default: policyLimiter(deps, 'default', perMinute), auth: policyLimiter(deps, 'auth', authPerMinute) };
}

/** Whom a request is counted for: the user of a valid access token, else the client IP (an IPv6 one by its /56). */
export const callerKey = (req: Request): string =>
  req.actor ? `user:${req.actor.id}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;

/**
 * The limiter of one policy: `limit` requests per minute and caller. The counts live in memory, or in Redis when the
 * app has a client (under RATE_LIMIT_REDIS_PREFIX and the policy's name), so that the limit holds across processes.
 * Over the limit it is 429 RATE_LIMITED; every counted response carries the draft-8 `RateLimit` headers.
 */
function policyLimiter(deps: LimiterDeps, policy: string, limit: number): RequestHandler {
  const redis = deps.redis;
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: policy,
    keyGenerator: callerKey,
    store: redis
      ? new RedisStore({
          prefix: `${deps.config.rateLimit.redisPrefix}${policy}:`,
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
    // With Redis down, requests go on without a limit (the per-account lockout still holds for logins) rather than
    // all failing; express-rate-limit reports each such request through `logger.error`, a warning here.
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
}
