import cors from 'cors';
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { AppError } from '../lib/errors';

/** Security headers; the CSP allows exactly what the local Swagger UI and ReDoc pages load. */
export function securityHeaders(): RequestHandler {
  return precomputed(
    helmet({
      contentSecurityPolicy: {
        directives: {
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
        },
      },
    }),
  );
}

// helmet's headers do not depend on the request here (no nonces, no per-request directives), so they are taken once
// from a recording response and then set in one step, instead of running its eleven middlewares on every request.
function precomputed(middleware: RequestHandler): RequestHandler {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  };
  let called = false;
  middleware({} as Request, recorder as unknown as Response, () => (called = true));
  if (!called) throw new Error('the security header middleware did not complete synchronously');
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

/** CORS for the configured origins only; bearer tokens travel in headers, so credentials are never allowed. */
export function corsPolicy(allowedOrigins: string[]): RequestHandler {
  return cors({
    origin: allowedOrigins.includes('*') ? '*' : allowedOrigins,
    credentials: false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: [
      'X-Request-Id',
      'Location',
      'ETag',
      'Idempotent-Replayed',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
    ],
    maxAge: 600,
  });
}

/** Answers 503 REQUEST_TIMEOUT when a request has not been answered in time, instead of leaving the socket hanging. */
export function requestTimeout(ms: number): RequestHandler {
  return (_req, res, next) => {
    const timer = setTimeout(() => {
      if (!res.headersSent)
        next(new AppError('REQUEST_TIMEOUT', `The request took longer than ${ms} ms.`, undefined, 1));
    }, ms);
    const clear = () => clearTimeout(timer);
    res.on('finish', clear);
    res.on('close', clear);
    next();
  };
}
