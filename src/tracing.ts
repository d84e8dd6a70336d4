import type { Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KnexInstrumentation } from '@opentelemetry/instrumentation-knex';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { Request } from 'express';
import { listOperations, loadSpec } from './http/binding/spec';

/*
 * OpenTelemetry tracing, loaded only when tracing is on (src/server.ts imports this module dynamically). It must start
 * before the app's modules are first required: the instrumentations patch node:http, pg, knex, @redis/client and
 * winston as they load. Everything else (exporter, endpoint, service name, sampler, propagators, resource) comes from
 * the standard OTEL_* variables, read by the SDK itself.
 */

/** Overrides for tests and the benchmark: their own span processors instead of the exporters OTEL_TRACES_EXPORTER names. */
export type TracingOptions = Pick<Partial<NodeSDKConfiguration>, 'spanProcessors'>;

/** Starts the SDK with the instrumentations this app uses; `shutdown` flushes the spans still queued. */
export function startTracing(options: TracingOptions = {}): { shutdown: () => Promise<void> } {
  const routes = new Map(listOperations(loadSpec()).map((op) => [op.operationId, op.path]));
  const sdk = new NodeSDK({
    ...options,
    // Traces only: the metrics are on /metrics (Prometheus) and the logs on standard output. Without these the SDK
    // would also start OTLP metric and log exporters of its own.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Called when the response is done, so the pipeline has matched the operation and authenticated the actor.
        applyCustomAttributesOnSpan: (span, request) => describeServerSpan(span, request as Request, routes),
      }),
      // Database and Redis calls outside a request (migrations, background refreshes) make no traces of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      new KnexInstrumentation({ requireParentSpan: true }),
      new RedisInstrumentation({ requireParentSpan: true }),
      // Adds trace_id, span_id and trace_flags to every log line written inside a span (the request line included:
      // with tracing on it goes through winston, see main's `tracing` hook); the logs stay on standard output.
      new WinstonInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** Starts tracing, then loads and runs the server (src/main.ts), which flushes the last spans when it shuts down. */
export async function serveTraced(options: TracingOptions = {}): Promise<void> {
  const tracing = startTracing(options);
  const { exitOnStartupError, main } = await import('./main.js');
  await main({ flush: tracing.shutdown, tracing: true }).catch(exitOnStartupError);
}

// The pipeline routes requests itself (one route table compiled from the spec), so the route template and the name
// come from the operation it matched. Outgoing requests and paths the spec does not have keep the SDK's defaults.
function describeServerSpan(span: Span, request: Request, routes: Map<string, string>): void {
  const operationId = request.operationId;
  if (operationId === undefined) return;
  span.updateName(operationId);
  const route = routes.get(operationId);
  if (route !== undefined) span.setAttribute('http.route', route);
  if (request.actor) span.setAttribute('enduser.id', String(request.actor.id));
}
