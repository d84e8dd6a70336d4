import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Express } from 'express';
import { createAuthenticator } from './authenticate';
import type { AppDeps } from './deps';
import { docsRouter } from './docs';
import { errorHandler } from './error-handler';
import { createHandlers } from './handlers';
import { corsPolicy, securityHeaders } from './hardening';
import { createMetrics } from './metrics';
import { createPipeline, notFound } from './pipeline';
import { authRateLimiter } from './rate-limit';
import { loadSpec } from './spec';

/**
 * Assembles the Express app: the pipeline compiled from the spec (every operation), then the docs pages, then
 * 404 for everything else, and the one error handler that renders `ErrorResponse`.
 */
export function createApp(deps: AppDeps): Express {
  const spec = loadSpec();
  const metrics = createMetrics(deps.db);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.config.trustProxy) app.set('trust proxy', deps.config.trustProxy);

  app.use(
    createPipeline({
      spec,
      handlers: createHandlers({ ...deps, metrics }),
      authenticate: createAuthenticator(deps),
      logger: deps.logger,
      metrics,
      rateLimiters: { auth: authRateLimiter(deps) },
      maxBodyBytes: deps.config.maxBodyBytes,
      validateResponses: deps.config.validateResponses,
      requestTimeoutMs: deps.config.requestTimeoutMs,
      staticHeaders: securityHeaders(),
      before: corsPolicy(deps.config.allowedOrigins, spec),
      // Tests build many short-lived apps in one process, which share the validators built on first use.
      warmUp: deps.config.env !== 'test',
    }),
  );
  app.use(docsRouter(spec));
  app.use(notFound());
  app.use(errorHandler(deps.logger));
  return app;
}

/**
 * The HTTP server for an app. Its requests and responses are created with the app's own request and response
 * prototypes, so Express finds them already in place: Express otherwise re-parents every request and response with
 * `Object.setPrototypeOf`, which throws V8 off its fast paths and cost a trivial request ~3x its CPU time.
 */
export function createHttpServer(app: Express): Server {
  function AppRequest(this: IncomingMessage, socket: Socket) {
    IncomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage) {
    ServerResponse.call(this, req);
  }
  AppResponse.prototype = app.response;
  return createServer(
    {
      IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
      ServerResponse: AppResponse as unknown as typeof ServerResponse,
    },
    app,
  );
}
