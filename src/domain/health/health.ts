import { createHash, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../data-access/database';
import { pingDatabase } from '../../data-access/health-repository';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';

export type CheckResult = { status: 'up' | 'down'; latencyMs: number; error?: string };
export type Readiness = { ready: boolean; checks: { database: CheckResult; redis?: CheckResult } };

/** Runs one probe with a deadline, reporting its latency and why it failed. */
export async function runCheck(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = `timeout after ${timeoutMs} ms`;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timedOut)), timeoutMs);
  });
  try {
    await Promise.race([probe(), deadline]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    // The endpoint is public: say why in general terms, never the driver's message with hosts and ports.
    const error = err instanceof Error && err.message === timedOut ? timedOut : 'unreachable or failing';
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks the database and Redis in parallel. The process is ready when the database is up and it is not draining:
 * Redis only holds rate-limit counts, and without it requests are still served (the limiter fails open), so a Redis
 * outage is reported in `checks` but must not take every instance out of rotation at once.
 */
export async function checkReadiness(deps: {
  db: Db;
  redis?: { ping: () => Promise<unknown> };
  timeoutMs: number;
  isDraining: () => boolean;
}): Promise<Readiness> {
  const redisClient = deps.redis;
  const [database, redis] = await Promise.all([
    runCheck(() => pingDatabase(deps.db), deps.timeoutMs),
    redisClient ? runCheck(() => redisClient.ping(), deps.timeoutMs) : undefined,
  ]);
  return { ready: database.status === 'up' && !deps.isDraining(), checks: redis ? { database, redis } : { database } };
}

/** Liveness: the process answers, at this time by its clock; it checks no dependency on purpose. */
export const checkLiveness = (deps: { clock: Clock }) => ({ status: 'healthy' as const, timestamp: deps.clock.now() });

/**
 * Lets a metrics scrape through when no token is configured, or when it presents `Bearer <token>`; NOT_AUTHENTICATED
 * otherwise. Digests are compared, so neither the token's content nor its length leaks through timing.
 */
export function assertMetricsAccess(token: string | undefined, authorization: string | undefined): void {
  if (token && !safeEqual(authorization ?? '', `Bearer ${token}`)) {
    throw new AppError('NOT_AUTHENTICATED', 'A valid metrics token is required.');
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const safeEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
