import {
  assertMetricsAccess,
  checkLiveness,
  checkReadiness,
  type CheckResult,
  type Readiness,
} from '../../domain/health/health';
import { errorBody } from '../errors/error-handler';
import type { PartialHandlers } from '../binding/operations';
import type { AppDeps } from '../deps';
import type { Metrics } from '../middleware/metrics';

/** Handlers of the `meta` tag: metrics, liveness and readiness. */
export function metaHandlers(deps: AppDeps & { metrics: Metrics }) {
  return {
    getMetrics: async ({ authorization }) => {
      assertMetricsAccess(deps.config.metricsToken, authorization);
      return {
        status: 200,
        headers: { 'Content-Type': deps.metrics.registry.contentType },
        body: await deps.metrics.registry.metrics(),
      };
    },

    getHealth: async () => {
      const { status, timestamp } = checkLiveness(deps);
      return { status: 200, body: { status, timestamp: timestamp.toISOString() } };
    },

    getReadiness: async ({ requestId }) => {
      const readiness = await checkReadiness({
        db: deps.db,
        redis: deps.redis,
        timeoutMs: deps.config.readinessTimeoutMs,
        isDraining: deps.lifecycle.isDraining,
      });
      const now = deps.clock.now();
      const checks = presentChecks(readiness.checks);
      if (readiness.ready) return { status: 200, body: { status: 'ready', timestamp: now.toISOString(), checks } };
      const down = Object.entries(readiness.checks)
        .filter(([, check]) => check.status === 'down')
        .map(([name]) => name);
      const message = down.length ? `Not ready: ${down.join(', ')} down.` : 'Not ready: shutting down.';
      return {
        status: 503,
        headers: { 'Retry-After': '5' },
        body: { ...errorBody('SERVICE_UNAVAILABLE', message, requestId, now), checks },
      };
    },
  } satisfies PartialHandlers;
}

const presentCheck = (check: CheckResult) => ({
  status: check.status,
  latency_ms: check.latencyMs,
  ...(check.error === undefined ? {} : { error: check.error }),
});

// The spec's `checks`: the database always, Redis when the app has it.
const presentChecks = (checks: Readiness['checks']) => ({
  database: presentCheck(checks.database),
  ...(checks.redis ? { redis: presentCheck(checks.redis) } : {}),
});
