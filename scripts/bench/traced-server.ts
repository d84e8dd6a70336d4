import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { core } from '@opentelemetry/sdk-node';
import { serveTraced } from '../../src/tracing';

/*
 * The bench's app-tracing server: the shipped server with tracing on and every request sampled, its spans queued and
 * batched as in production (BatchSpanProcessor, default sizes and delay), then handed to an exporter that drops them.
 * Its CPU per request is what making the spans costs (instrumentation, context propagation, ids, attributes, the
 * log correlation, batching); serialising them and sending them to a collector is not in the figure.
 */
const dropAll: SpanExporter = {
  export: (_spans, done) => done({ code: core.ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};

serveTraced({ spanProcessors: [new BatchSpanProcessor(dropAll)] }).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
