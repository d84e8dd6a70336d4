import 'dotenv/config';
import { tracingEnabled } from './lib/config';

// The entry point. With tracing on (the OTEL_* variables, see tracingEnabled) the SDK starts before any module of
// the app loads, so that its instrumentations patch node:http, pg, knex, redis and winston as they are first
// required. With tracing off nothing of it loads: no SDK, no instrumentation, not even src/tracing.ts.
const started = tracingEnabled()
  ? import('./tracing.js').then((tracing) => tracing.serveTraced())
  : import('./main.js').then(({ exitOnStartupError, main }) => main().catch(exitOnStartupError));

started.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
