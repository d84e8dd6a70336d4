import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { serveTraced } from '../../src/tracing';

/*
 * The server of src/server.ts with tracing on, run as a child process (the instrumentations patch modules as Node.js
 * requires them, which jest's own module registry bypasses). Every finished span is kept by the SDK's in-memory
 * exporter; the parent sends 'spans' over IPC and gets them back as plain objects.
 */

/** A finished span as the test reads it. */
export type SpanRecord = {
  name: string;
  kind: number;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: number;
};

const toRecord = (span: ReadableSpan): SpanRecord => ({
  name: span.name,
  kind: span.kind,
  scope: span.instrumentationScope.name,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
  attributes: { ...span.attributes },
  status: span.status.code,
});

if (require.main === module) {
  const exporter = new InMemorySpanExporter();
  process.on('message', (message) => {
    if (message === 'spans') process.send?.(exporter.getFinishedSpans().map(toRecord));
  });
  serveTraced({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
