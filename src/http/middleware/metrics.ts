import client from 'prom-client';
import type { Db } from '../../data-access/database';

type TarnPool = { numUsed: () => number; numFree: () => number; numPendingAcquires: () => number };

/** The process's Prometheus registry with request, database pool and default process metrics. */
export type Metrics = {
  registry: client.Registry;
  /** Records one finished request; unmatched routes pass operation id `unmatched`. */
  observe: (operationId: string, method: string, status: number, seconds: number) => void;
  /** Counts one failed call of the rate limiter to its store (Redis down or not answering in time). */
  countRateLimitStoreError: () => void;
  /** Counts one call that used a deprecated shape: the operation itself, or `query.<name>` / `header.<name>`. */
  countDeprecatedCall: (operationId: string, shape: string) => void;
  /** Counts one sampled response that broke the spec. */
  countResponseViolation: (operationId: string, status: number) => void;
};

/** Creates a registry of its own (so several apps in one process never share counters) and the recording middleware. */
export function createMetrics(db: Db): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const labelNames = ['operation_id', 'method', 'status'] as const;
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request duration in seconds, by operation, method and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'Requests served, by operation, method and status.',
    labelNames,
    registers: [registry],
  });
  const storeErrors = new client.Counter({
    name: 'rate_limit_store_errors_total',
    help: 'Calls of the rate limiter to Redis that failed or got no reply in time; each let its request in unlimited.',
    registers: [registry],
  });
  const deprecatedCalls = new client.Counter({
    name: 'deprecated_calls_total',
    help: 'Calls that used a deprecated operation (shape "operation") or parameter ("query.<name>", "header.<name>").',
    labelNames: ['operation_id', 'shape'] as const,
    registers: [registry],
  });
  const violations = new client.Counter({
    name: 'response_validation_violations_total',
    help: 'Sampled responses (VALIDATE_RESPONSES=sample:<share>) that broke the spec, by operation and status.',
    labelNames: ['operation_id', 'status'] as const,
    registers: [registry],
  });
  const pool = () => (db.client as { pool?: TarnPool }).pool;
  const poolGauge = (name: string, help: string, read: (p: TarnPool) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const p = pool();
        this.set(p ? read(p) : 0);
      },
    });
  poolGauge('db_pool_connections_used', 'Database connections in use.', (p) => p.numUsed());
  poolGauge('db_pool_connections_free', 'Idle database connections.', (p) => p.numFree());
  poolGauge('db_pool_acquires_pending', 'Requests waiting for a database connection.', (p) => p.numPendingAcquires());

  // One pair of labelled children per operation, method and status, found by one map lookup: prom-client would
  // otherwise hash the label object twice on every request. Bounded: operation ids are the spec's (plus
  // `unmatched`, so a scan of random URLs cannot blow up cardinality), methods are the few Node's parser accepts.
  const children = new Map<
    string,
    { duration: client.Histogram.Internal<(typeof labelNames)[number]>; requests: client.Counter.Internal }
  >();
  const observe: Metrics['observe'] = (operationId, method, status, seconds) => {
    const key = `${operationId} ${method} ${status}`;
    let child = children.get(key);
    if (!child) {
      const labels = { operation_id: operationId, method, status: String(status) };
      child = { duration: duration.labels(labels), requests: requests.labels(labels) };
      children.set(key, child);
    }
    child.duration.observe(seconds);
    child.requests.inc();
  };
  return {
    registry,
    observe,
    countRateLimitStoreError: () => storeErrors.inc(),
    countDeprecatedCall: (operationId, shape) => deprecatedCalls.inc({ operation_id: operationId, shape }),
    countResponseViolation: (operationId, status) =>
      violations.inc({ operation_id: operationId, status: String(status) }),
  };
}
