import { createPipeline } from '../src/http/pipeline';
import { loadSpec } from '../src/http/spec';
import { createLogger } from '../src/lib/logger';
const spec = loadSpec();
let t = performance.now();
createPipeline({
  spec,
  handlers: {},
  authenticate: async () => undefined,
  logger: createLogger({ logLevel: 'info', logFormat: 'json' }),
  maxBodyBytes: 1e6,
  rateLimiters: { auth: (_q, _s, n) => n() },
  validateResponses: true,
  requestTimeoutMs: 1000,
});
console.log('pipeline', (performance.now() - t).toFixed(0));
t = performance.now();
setImmediate(() => console.log('tick', (performance.now() - t).toFixed(0)));
setTimeout(() => console.log('1s later', (performance.now() - t).toFixed(0), process.memoryUsage().rss / 1e6), 1000);
