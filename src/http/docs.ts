import { Router } from 'express';
import YAML from 'yaml';
import type { OpenApiDocument } from './spec';

const REDOC_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>API reference</title>
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>`;

const SWAGGER_UI_FILES = new Set([
  '/',
  '/index.html',
  '/swagger-ui-init.js',
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/swagger-ui-standalone-preset.js',
  '/favicon-16x16.png',
  '/favicon-32x32.png',
]);

/** Serves the spec as JSON and YAML, Swagger UI at `/docs` and ReDoc at `/redoc`, all from local files. */
export function docsRouter(doc: OpenApiDocument): Router {
  const router = Router();
  const json = JSON.stringify(doc);
  // Rendered on first request: stringifying the spec as YAML is a noticeable part of the start-up time.
  let yaml: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  router.get('/openapi.yaml', (_req, res) => {
    yaml ??= YAML.stringify(doc);
    res.type('application/yaml').send(yaml);
  });
  // Swagger UI's package is loaded on the first visit to /docs: it weighs ~17 MB of memory in every process.
  let swaggerUi: Router | undefined;
  router.use('/docs', (req, res, next) => {
    // Only the page and the files it loads: swagger-ui-express answers any other path under /docs with the page
    // (and a traversal attempt with its own text/plain 404), so everything else falls through to the 404 of the app.
    if (!SWAGGER_UI_FILES.has(req.path)) return next();
    swaggerUi ??= swaggerUiRouter();
    swaggerUi(req, res, next);
  });
  router.get('/redoc', (_req, res) => {
    res.type('html').send(REDOC_PAGE);
  });
  router.get('/redoc/redoc.standalone.js', (_req, res) => {
    res.sendFile(require.resolve('redoc/bundles/redoc.standalone.js'));
  });
  return router;
}

function swaggerUiRouter(): Router {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swaggerUi = require('swagger-ui-express') as typeof import('swagger-ui-express');
  return Router().use(
    swaggerUi.serve,
    swaggerUi.setup(undefined, {
      customSiteTitle: 'API docs',
      swaggerOptions: { url: '/openapi.json', persistAuthorization: true, displayOperationId: true },
    }),
  );
}
