import type { ErrorRequestHandler, Request, Response } from 'express';
import { AppError, type ErrorCode } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { ERROR_STATUS } from './error-status';
import { detailsOf, RequestError, type ErrorDetail } from './request-error';

type ValidatorError = {
  status: number;
  message: string;
  errors?: { path: string; message: string }[];
  headers?: Record<string, string>;
};
type ParserError = { type: string; status: number; message: string };

// Duck-typed, not `instanceof Error`: errors raised by Node's core (sockets) may come from another realm.
const isObject = (err: unknown): err is Record<string, unknown> => typeof err === 'object' && err !== null;
const isValidatorError = (err: unknown): err is ValidatorError =>
  isObject(err) &&
  typeof (err as Partial<ValidatorError>).status === 'number' &&
  Array.isArray((err as Partial<ValidatorError>).errors);
const isParserError = (err: unknown): err is ParserError =>
  isObject(err) &&
  typeof (err as Partial<ParserError>).type === 'string' &&
  typeof (err as Partial<ParserError>).status === 'number';

const LOCATIONS: Record<string, ErrorDetail['location']> = {
  body: 'body',
  query: 'query',
  params: 'path',
  path: 'path',
  headers: 'header',
};

// The validator reports `/body/email` or `.query.limit`: split that into our location and JSON pointer.
function toDetail(item: { path: string; message: string }): ErrorDetail {
  const segments = item.path.split(/[/.]/).filter(Boolean);
  const location = LOCATIONS[segments[0] ?? ''] ?? 'body';
  const rest = LOCATIONS[segments[0] ?? ''] ? segments.slice(1) : segments;
  return { location, path: `/${rest.join('/')}`, message: item.message };
}

// Connection failures, admin shutdown, too many connections, and statement_timeout cancelling a query.
const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '53300',
  '57014',
]);
const isDatabaseUnavailable = (err: unknown): boolean =>
  isObject(err) &&
  (DB_UNAVAILABLE_CODES.has(String(err.code)) ||
    err.name === 'KnexTimeoutError' ||
    // pg's "not queryable": the connection broke inside a transaction, so even its ROLLBACK failed. pg's own
    // connect timeout ("timeout expired") carries no code; knex hands that same error to other waiting requests.
    /Connection terminated|timeout exceeded when trying to connect|is not queryable|^timeout expired$/i.test(
      String(err.message),
    ));

// PostgreSQL cannot store U+0000 in text (22021, invalid byte sequence): a client string carrying one is bad input.
const isNulInText = (err: unknown): boolean => isObject(err) && err.code === '22021';

/** Converts anything thrown into the AppError that describes it to a client; null for unexpected errors. */
export function classify(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (isParserError(err)) {
    if (err.type === 'entity.parse.failed')
      return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
    if (err.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      return new AppError('UNSUPPORTED_MEDIA_TYPE', err.message);
    }
    if (err.status === 400) return new AppError('MALFORMED_JSON', 'The request body could not be read.');
  }
  if (isValidatorError(err)) {
    switch (err.status) {
      case 400:
        return new RequestError('VALIDATION_ERROR', 'The request is invalid.', (err.errors ?? []).map(toDetail));
      case 404:
        return new AppError('NOT_FOUND', 'No such route.');
      case 405:
        return new AppError('METHOD_NOT_ALLOWED', 'The method is not allowed on this route.');
      case 413:
        return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
      case 415:
        return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The content type is not supported by this operation.');
      default:
        return null;
    }
  }
  // A body that does not inflate as its Content-Encoding says (body-parser passes zlib's error on with a 400).
  if (isObject(err) && err.status === 400 && String(err.code).startsWith('Z_'))
    return new AppError('MALFORMED_JSON', 'The request body could not be read.');
  // The router could not percent-decode a path parameter, e.g. `/products/%E0%A4%A`.
  if (isObject(err) && err.name === 'URIError')
    return new RequestError('VALIDATION_ERROR', 'The URL is not valid percent-encoded UTF-8.', [
      { location: 'path', path: '/', message: 'a path segment is not valid percent-encoded UTF-8' },
    ]);
  if (isNulInText(err)) return new AppError('VALIDATION_ERROR', 'Text must not contain the NUL character (U+0000).');
  if (isDatabaseUnavailable(err))
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry later.', undefined, 5);
  return null;
}

/**
 * What went wrong reading a body, for a client: body-parser reports every problem of the request (bad JSON, a body
 * that does not inflate as its `Content-Encoding` says, whatever the codec, an unknown encoding or charset, too
 * large) with a 4xx status; anything else is passed on as it is.
 */
export function bodyError(err: unknown): unknown {
  const known = classify(err);
  if (known) return known;
  if (!isObject(err) || typeof err.status !== 'number' || err.status < 400 || err.status > 499) return err;
  if (err.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (err.status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', String(err.message));
  return new AppError('MALFORMED_JSON', 'The request body could not be read.');
}

/** Builds the `ErrorResponse` body. */
export function errorBody<C extends ErrorCode>(
  code: C,
  message: string,
  requestId: string,
  now: Date,
  details?: ErrorDetail[],
) {
  return {
    error_code: code,
    message,
    timestamp: now.toISOString(),
    request_id: requestId,
    ...(details?.length ? { details } : {}),
  };
}

/** Sends an `ErrorResponse` for the given error, with its status and headers. */
export function sendError(res: Response, error: AppError, req: Request, now: Date): void {
  const status = ERROR_STATUS[error.code];
  if (status === 401)
    res.setHeader('WWW-Authenticate', error.code === 'NOT_AUTHENTICATED' ? 'Bearer' : `Bearer error="invalid_token"`);
  if (error.retryAfterSeconds !== undefined)
    res.setHeader('Retry-After', String(Math.max(0, Math.ceil(error.retryAfterSeconds))));
  res.status(status).json(errorBody(error.code, error.message, req.requestId, now, detailsOf(error, req.query)));
}

/** The one error handler: renders every error as `ErrorResponse` and logs unexpected ones in full. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next) => {
    if (res.headersSent) {
      // Typically a handler finishing after its request timed out: the client already has its answer.
      logger.warn('error after the response was sent', { request_id: req.requestId, error: String(err) });
      return;
    }
    const known = classify(err);
    if (known?.code === 'METHOD_NOT_ALLOWED' && isValidatorError(err) && err.headers?.Allow)
      res.setHeader('Allow', err.headers.Allow);
    if (!known || ERROR_STATUS[known.code] >= 500) {
      const isResponseViolation = isValidatorError(err) && err.status === 500;
      logger.error(isResponseViolation ? 'response violates the spec' : 'request failed', {
        request_id: req.requestId,
        method: req.method,
        path: req.path,
        error: isObject(err) ? { name: err.name, message: err.message, stack: err.stack, code: err.code } : String(err),
        violations: isValidatorError(err) ? err.errors : undefined,
      });
    }
    // Real time on purpose: the error path must not depend on an injected clock that may be what failed.
    const error = known ?? new AppError('INTERNAL_ERROR', 'An unexpected error occurred.');
    sendError(res, error, req, new Date());
  };
}
