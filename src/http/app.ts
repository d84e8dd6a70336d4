import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { accessRouter, operationRouter } from './bind-operations';
import { createAuthenticator } from './authenticate';
import type { AppDeps } from './deps';
import { docsRouter } from './docs';
import { errorHandler } from './error-handler';
import { createHandlers } from './handlers';
import { requestId, requestLog } from './request-context';
import { listOperations, loadSpec } from './spec';

/** Assembles the Express app from the spec: docs, access rules, validation, typed handlers and error rendering. */
export function createApp(deps: AppDeps): Express {
  const spec = loadSpec();
  const operations = listOperations(spec);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.config.trustProxy) app.set('trust proxy', deps.config.trustProxy);

  app.use(requestId());
  app.use(requestLog(deps.logger));
  app.use(docsRouter(spec));
  app.use(express.json({ limit: deps.config.maxBodyBytes, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: deps.config.maxBodyBytes, parameterLimit: 100 }));
  app.use(accessRouter(operations, createAuthenticator(deps)));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: structuredClone(spec) as unknown as OpenAPIV3.DocumentV3_1,
      validateRequests: { allErrors: true },
      validateResponses: deps.config.validateResponses ? { allErrors: true } : false,
      validateSecurity: false,
      // The spec is linted by Redocly in `make check`; the validator's own meta-schema rejects the relative tokenUrl.
      validateApiSpec: false,
      validateFormats: true,
    }),
  );
  app.use(operationRouter(operations, createHandlers(deps)));
  app.use(errorHandler(deps.logger));
  return app;
}
