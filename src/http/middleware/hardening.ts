import cors from 'cors';
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { declaredResponseHeaders, listOperations, type OpenApiDocument } from '../binding/spec';

// The CSP allows exactly what the local Swagger UI and ReDoc pages load.
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  // Both doc renderers inject inline styles; ReDoc runs its search in a blob: worker.
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  workerSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * The security headers of every API response, computed once: the set the OWASP REST Security Cheat Sheet asks of a
 * JSON API. A JSON body is never rendered as a page, so the headers that only matter to documents (helmet's
 * cross-origin, DNS-prefetch and download policies) are left to the docs pages, which get `pageSecurityHeaders`.
 */
export function securityHeaders(): [string, string][] {
  return [
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
  ];
}

/** The security headers of the HTML docs pages and their assets (helmet's, with a CSP for what they load). */
export function pageSecurityHeaders(): [string, string][] {
  return recordHeaders(helmet({ contentSecurityPolicy: { directives: CSP_DIRECTIVES } }));
}

/** Where the ReDoc bundle loads its logo from. */
export const REDOC_LOGO_ORIGIN = 'https://cdn.redoc.ly';

/**
 * The CSP of the ReDoc page: the one of every response, plus the one image its bundle loads from elsewhere, the
 * Redocly logo beside "API docs by Redocly" (its address is fixed in the bundle; ReDoc hides it when it fails).
 */
export function redocContentSecurityPolicy(): string {
  const directives = { ...CSP_DIRECTIVES, imgSrc: [...CSP_DIRECTIVES.imgSrc, REDOC_LOGO_ORIGIN] };
  const [header] = recordHeaders(helmet.contentSecurityPolicy({ directives }));
  if (header?.[0] !== 'Content-Security-Policy') throw new Error('helmet set no Content-Security-Policy');
  return header[1];
}

// helmet's headers do not depend on the request here (no nonces, no per-request directives), so they are taken once
// from a recording response and then set in one step, instead of running its eleven middlewares on every request.
// (What helmet removes, X-Powered-By, Express is told not to send at all.)
function recordHeaders(middleware: RequestHandler): [string, string][] {
  const set: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => set.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  let called = false;
  middleware({} as Request, recorder as unknown as Response, () => (called = true));
  if (!called) throw new Error('the security header middleware did not complete synchronously');
  return set;
}

/**
 * CORS for the configured origins only; bearer tokens travel in headers, so credentials are never allowed.
 * A request without `Origin` is no CORS request: it gets the one header the policy would add, `Vary: Origin`,
 * without running the policy.
 */
export function corsPolicy(allowedOrigins: string[], spec: OpenApiDocument): RequestHandler {
  const operations = listOperations(spec);
  const unique = (items: string[]) => [...new Set(items)];
  const anyOrigin = allowedOrigins.includes('*');
  const policy = cors({
    origin: allowedOrigins.includes('*') ? '*' : allowedOrigins,
    credentials: false,
    // Read from the spec: its methods, the request headers it declares, the response headers it declares.
    methods: unique(['HEAD', ...operations.map((op) => op.method.toUpperCase())]),
    allowedHeaders: unique([
      'Authorization',
      'Content-Type',
      'X-Request-Id',
      ...operations.flatMap((op) => op.headerParams),
    ]),
    exposedHeaders: declaredResponseHeaders(spec),
    maxAge: 600,
  });
  return (req, res, next) => {
    if (req.headers.origin !== undefined) return policy(req, res, next);
    if (!anyOrigin) res.setHeader('Vary', 'Origin');
    next();
  };
}
