import { checkReadiness } from '../../domain/health/check-readiness';
import { errorBody } from '../error-handler';
import type { PartialHandlers } from '../operations';
import type { AppDeps } from '../deps';

/** Handlers of the `meta` tag: liveness and readiness. */
export function metaHandlers(deps: AppDeps) {
  return {
    getHealth: async () => ({ status: 200, body: { status: 'healthy', timestamp: deps.clock.now().toISOString() } }),

    getReadiness: async ({ requestId }) => {
      const readiness = await checkReadiness({
        db: deps.db,
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
