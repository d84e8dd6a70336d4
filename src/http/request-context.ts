import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../lib/logger';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reuses a sane incoming `X-Request-Id` (bounded length and charset) or generates one, and echoes it. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('X-Request-Id');
    req.requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  };
}

/** Logs one line per finished request: method, route template, operationId, status, duration, request and user ids. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger.log(level, 'request', {
        request_id: req.requestId,
        method: req.method,
        route: (req as { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute ?? req.path,
        operation_id: req.operationId,
        status: res.statusCode,
        duration_ms: Math.round(durationMs * 100) / 100,
        user_id: req.caller?.id,
      });
    });
    next();
  };
}
