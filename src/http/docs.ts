import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
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

/** Serves the spec as JSON and YAML, Swagger UI at `/docs` and ReDoc at `/redoc`, all from local files. */
export function docsRouter(doc: OpenApiDocument): Router {
  const router = Router();
  const json = JSON.stringify(doc);
  const yaml = YAML.stringify(doc);
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(yaml);
  });
  router.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(undefined, {
      customSiteTitle: 'API docs',
      swaggerOptions: { url: '/openapi.json', persistAuthorization: true, displayOperationId: true },
    }),
  );
  router.get('/redoc', (_req, res) => {
    res.type('html').send(REDOC_PAGE);
  });
  router.get('/redoc/redoc.standalone.js', (_req, res) => {
    res.sendFile(require.resolve('redoc/bundles/redoc.standalone.js'));
  });
  return router;
}
