import { createHash, timingSafeEqual } from 'node:crypto';
import { checkReadiness } from '../../domain/health/check-readiness';
import { AppError } from '../../lib/errors';
import { errorBody } from '../errors/error-handler';
import type { PartialHandlers } from '../binding/operations';
import type { AppDeps } from '../deps';
import type { Metrics } from '../middleware/metrics';

/** Handlers of the `meta` tag: metrics, liveness and readiness. */
export function metaHandlers(deps: AppDeps & { metrics: Metrics }) {
  return {
    getMetrics: async ({ authorization }) => {
      const token = deps.config.metricsToken;
      if (token && !safeEqual(authorization ?? '', `Bearer ${token}`)) {
        throw new AppError('NOT_AUTHENTICATED', 'A valid metrics token is required.');
      }
      return {
        status: 200,
        headers: { 'Content-Type': deps.metrics.registry.contentType },
        body: await deps.metrics.registry.metrics(),
      };
    },

    getHealth: async () => ({ status: 200, body: { status: 'healthy', timestamp: deps.clock.now().toISOString() } }),

    getReadiness: async ({ requestId }) => {
      const readiness = await checkReadiness({
        db: deps.db,
        redis: deps.redis,
        timeoutMs: deps.config.readinessTimeoutMs,
        isDraining: deps.lifecycle.isDraining,
      });
      const now = deps.clock.now();
      if (readiness.ready)
        return { status: 200, body: { status: 'ready', timestamp: now.toISOString(), checks: readiness.checks } };
      const down = Object.entries(readiness.checks)
        .filter(([, check]) => check.status === 'down')
        .map(([name]) => name);
      const message = down.length ? `Not ready: ${down.join(', ')} down.` : 'Not ready: shutting down.';
      return {
        status: 503,
        headers: { 'Retry-After': '5' },
        body: { ...errorBody('SERVICE_UNAVAILABLE', message, requestId, now), checks: readiness.checks },
      };
    },
  } satisfies PartialHandlers;
}

// Compares digests so neither the token's content nor its length leaks through timing.
const digest = (value: string) => createHash('sha256').update(value).digest();
const safeEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
