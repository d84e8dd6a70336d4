import { Router } from 'express';
import YAML from 'yaml';
import { pageSecurityHeaders, redocContentSecurityPolicy } from './middleware/hardening';
import { withLifecycleNotes } from './binding/lifecycle';
import type { OpenApiDocument } from './binding/spec';

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

// The site's icon, for the pages that name none (ReDoc, and browsers that ask for /favicon.ico on their own).
const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">
  <rect width="32" height="32" rx="6" fill="#32329f"/>
  <text x="16" y="22" font-family="monospace" font-size="16" font-weight="bold" fill="#fff" text-anchor="middle">{}</text>
</svg>
`;

// The Authorize dialog asks for a client_id and a client_secret (and where to send them) in every password flow;
// this API's token endpoint takes neither, and Swagger UI has no option to leave them out.
const HIDE_CLIENT_CREDENTIALS = `
  .auth-container .wrapper:has(> label[for^="client_id_"]),
  .auth-container .wrapper:has(> label[for^="client_secret_"]),
  .auth-container .wrapper:has(> label[for="password_type"]) { display: none; }
`;

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

/**
 * Serves the spec as JSON and YAML, Swagger UI at `/docs`, ReDoc at `/redoc` and the site's icon, all from local
 * files; only the Redocly logo in ReDoc's side menu comes from elsewhere (its CDN), when it can be reached. The
 * served spec carries each deprecation's dates in its description (`withLifecycleNotes`).
 */
export function docsRouter(spec: OpenApiDocument): Router {
  // What the pages show: the spec, with the dates of each deprecation written where Swagger UI and ReDoc show them.
  const doc = withLifecycleNotes(spec);
  const router = Router();
  // HTML pages and their assets: the document headers the API's JSON responses do without.
  const pageHeaders = pageSecurityHeaders();
  router.use((_req, res, next) => {
    for (const [name, value] of pageHeaders) res.setHeader(name, value);
    next();
  });
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
  const redocCsp = redocContentSecurityPolicy();
  router.get('/redoc', (_req, res) => {
    res.setHeader('Content-Security-Policy', redocCsp);
    res.type('html').send(REDOC_PAGE);
  });
  router.get('/redoc/redoc.standalone.js', (_req, res) => {
    res.sendFile(require.resolve('redoc/bundles/redoc.standalone.js'));
  });
  router.get('/favicon.ico', (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').send(FAVICON_SVG);
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
      customCss: HIDE_CLIENT_CREDENTIALS,
      // deepLinking: `/docs#/<tag>/<operationId>` opens that operation, which a deprecation's Link names.
      swaggerOptions: { url: '/openapi.json', persistAuthorization: true, displayOperationId: true, deepLinking: true },
    }),
  );
}
