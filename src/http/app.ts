import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express, { type Request, type Response } from 'express';
import { createAuthenticator } from './middleware/authenticate';
import type { AppDeps } from './deps';
import { docsRouter } from './docs';
import { errorHandler } from './errors/error-handler';
import { createHandlers } from './handlers';
import { corsPolicy, securityHeaders } from './middleware/hardening';
import { createMetrics } from './middleware/metrics';
import { createPipeline, notFound } from './binding/pipeline';
import { rateLimiters } from './middleware/rate-limit';
import { loadSpec } from './binding/spec';
import { createLinks } from './binding/links';

/** The app as a request listener, with the request and response prototypes its requests are born with. */
export type App = ((req: IncomingMessage, res: ServerResponse) => void) & { request: Request; response: Response };

/**
 * Assembles the app: the pipeline compiled from the spec (every operation) first, then, in Express, the docs pages,
 * 404 for everything else; one error handler renders `ErrorResponse` for both.
 */
export function createApp(deps: AppDeps): App {
  const spec = loadSpec();
  const metrics = createMetrics(deps.db);
  const rest = express();
  rest.disable('x-powered-by');
  rest.set('etag', false);
  if (deps.config.trustProxy) rest.set('trust proxy', deps.config.trustProxy);
  const renderError = errorHandler(deps.logger);
  rest.use(docsRouter(spec));
  rest.use(notFound());
  rest.use(renderError);

  const pipeline = createPipeline({
    spec,
    handlers: createHandlers({ ...deps, metrics, links: createLinks(spec) }),
    authenticate: createAuthenticator(deps),
    logger: deps.logger,
    metrics,
    rateLimiters: rateLimiters({ ...deps, metrics }),
    maxBodyBytes: deps.config.maxBodyBytes,
    validateResponses: deps.config.validateResponses,
    responseSampleRate: deps.config.responseSampleRate,
    clock: deps.clock,
    enforceSunset: deps.config.enforceSunset,
    requestTimeoutMs: deps.config.requestTimeoutMs,
    staticHeaders: securityHeaders(),
    before: corsPolicy(deps.config.allowedOrigins, spec),
    // Tests build many short-lived apps in one process, which share the validators built on first use.
    warmUp: deps.config.env !== 'test',
  });
  // The pipeline runs ahead of Express's router, which would otherwise walk its layers for every request; it needs
  // only what Express's app.handle and router set before their first middleware. Unknown paths go on to Express.
  const app = (req: IncomingMessage, res: ServerResponse) => {
    const request = req as Request;
    const response = res as Response;
    request.res = response;
    response.req = request;
    request.originalUrl = req.url ?? '/';
    request.baseUrl = '';
    const next = (err?: unknown) =>
      err === undefined ? rest(request, response) : renderError(err, request, response, () => undefined);
    // Express's router turns a synchronous throw of a middleware into next(err); so does this.
    try {
      pipeline(request, response, next);
    } catch (err) {
      next(err);
    }
  };
  return Object.assign(app, { request: rest.request, response: rest.response });
}

/**
 * The HTTP server for an app. Its requests and responses are created with the app's own request and response
 * prototypes, so Express finds them already in place: Express otherwise re-parents every request and response with
 * `Object.setPrototypeOf`, which throws V8 off its fast paths and cost a trivial request ~3x its CPU time.
 */
export function createHttpServer(app: App): Server {
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
