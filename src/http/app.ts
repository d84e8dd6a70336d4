import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { accessRouter, operationRouter } from './bind-operations';
import { createAuthenticator } from './authenticate';
import type { AppDeps } from './deps';
import { docsRouter } from './docs';
import { errorHandler } from './error-handler';
import { createHandlers } from './handlers';
import { corsPolicy, requestTimeout, securityHeaders } from './hardening';
import { createMetrics } from './metrics';
import { authRateLimiter } from './rate-limit';
import { requestId, requestLog } from './request-context';
import { memoizeRouteRegexps } from './route-regexp-cache';
import { listOperations, loadSpec, type SpecOperation } from './spec';

const FORM = 'application/x-www-form-urlencoded';

/** Assembles the Express app from the spec: docs, access rules, validation, typed handlers and error rendering. */
export function createApp(deps: AppDeps): Express {
  memoizeRouteRegexps();
  const spec = loadSpec();
  const operations = listOperations(spec);
  const metrics = createMetrics(deps.db);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.config.trustProxy) app.set('trust proxy', deps.config.trustProxy);

  app.use(requestId());
  app.use(requestLog(deps.logger));
  app.use(metrics.middleware);
  app.use(securityHeaders());
  app.use(corsPolicy(deps.config.allowedOrigins));
  app.use(requestTimeout(deps.config.requestTimeoutMs));
  app.use(docsRouter(spec));
  app.use(express.json({ limit: deps.config.maxBodyBytes, type: 'application/json' }));
  app.use(formParser(operations, deps.config.maxBodyBytes));
  app.use(accessRouter(operations, createAuthenticator(deps)));
  app.use(authRateLimiter(deps, operations));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: structuredClone(spec) as unknown as OpenAPIV3.DocumentV3_1,
      validateRequests: { allErrors: true },
      validateResponses: deps.config.validateResponses ? { allErrors: true } : false,
      validateSecurity: false,
      // The spec is linted by Redocly in `make check`; the validator's own meta-schema rejects the relative tokenUrl.
      validateApiSpec: false,
      validateFormats: true,
      // The spec has no multipart bodies: without this the validator runs multer's check on every request.
      fileUploader: false,
    }),
  );
  app.use(operationRouter(operations, createHandlers({ ...deps, metrics })));
  app.use(errorHandler(deps.logger));
  return app;
}

/** Parses form bodies only on the operations whose spec accepts them (the OAuth2 login). */
function formParser(operations: SpecOperation[], limit: number): express.Router {
  const router = express.Router();
  const parse = express.urlencoded({ extended: false, limit, parameterLimit: 20 });
  for (const op of operations.filter((o) => o.requestContentTypes.includes(FORM))) {
    router[op.method](op.expressPath, parse);
  }
  return router;
}
