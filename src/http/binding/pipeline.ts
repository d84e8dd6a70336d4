import { createHash, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { systemClock, type Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { RequestError, type ErrorDetail } from '../errors/request-error';
import { bodyError } from '../errors/error-handler';
import { logRequest, type Logger } from '../../lib/logger';
import type { Metrics } from '../middleware/metrics';
import type { Actor } from '../../domain/actor';
import { dayOf, deprecationRecorder, mostUrgent, noticesFor, type DeprecationRecorder, type Notice } from './lifecycle';
import { chain, RouteTable, specForOperation } from './operation-table';
import { responseSampler } from './response-check';
import { listOperations, type Access, type OpenApiDocument, type SpecOperation } from './spec';

/** Resolves the actor of a request from its credentials, or throws the AppError that explains why not. */
export type Authenticate = (req: Request) => Promise<Actor | undefined>;

type Step = (req: Request, res: Response, late: NextFunction) => Promise<void>;
type AnyHandler = (request: unknown) => Promise<Reply>;
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** One operation of the spec with everything a request to it needs, all of it decided at start-up. */
export type CompiledOperation = SpecOperation & {
  /** The body parsers of the media types it accepts; none when it takes no body, so a stray body is not read. */
  parseBody: Step | undefined;
  /** The limiter of its rate-limit policy (`x-rate-limit`, its own or the document's); none for `none`. */
  limitRate: Step | undefined;
  /** Its own express-openapi-validator instance: request (and, when enabled, response) validation. */
  validate: Step & { warm: () => void };
  /** No parameters and no body: a request without a query string has nothing to validate. */
  validatesNothingWithoutQuery: boolean;
  /** Response validation is on: the validator checks bodies sent through Express's `res.json`. */
  validatesResponses: boolean;
  handler: AnyHandler | undefined;
};

/** What the pipeline is built from: the spec, the handlers, and the pieces each step needs. */
export type PipelineOptions = {
  spec: OpenApiDocument;
  handlers: Record<string, unknown>;
  authenticate: Authenticate;
  logger: Logger;
  metrics?: Pick<Metrics, 'observe'> & Partial<Pick<Metrics, 'countDeprecatedCall' | 'countResponseViolation'>>;
  /** The limiter of each rate-limit policy by name; an operation whose policy has none fails the start-up. */
  rateLimiters?: Record<string, RequestHandler>;
  maxBodyBytes: number;
  validateResponses: boolean;
  /** Check this share of the responses against the spec after they are sent (`VALIDATE_RESPONSES=sample:<share>`). */
  responseSampleRate?: number;
  /** Where sunsets are compared with the time and violation reports spaced; the system clock by default. */
  clock?: Clock;
  /** Answer 410 GONE to a request that uses an operation or parameter past its `x-sunset`. */
  enforceSunset?: boolean;
  requestTimeoutMs: number;
  /** Headers every response carries (security headers), computed once. */
  staticHeaders?: [string, string][];
  /** Runs before the route lookup, e.g. CORS, which may answer a preflight itself. */
  before?: RequestHandler;
  /** Build every operation's validator (and sampled checks) in the background after start-up, one every 50 ms. */
  warmUp?: boolean;
};

const withoutQuery = (url: string) => {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
};

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What every operation's run shares: authentication, and for deprecated shapes the clock, policy and recorder. */
type Shared = {
  authenticate: Authenticate;
  clock: Clock;
  enforceSunset: boolean;
  recordDeprecated: DeprecationRecorder;
};

/**
 * The request pipeline compiled from the spec: one route lookup per request finds the operation, then its body
 * parser, access rule, rate limit, validator and typed handler run in that order. Requests to paths the spec does not
 * have go on to the next middleware (the docs pages); a known path with another method is 405 with `Allow`.
 * Every request gets an `X-Request-Id`, the static headers, a timeout, one log line and one metrics sample.
 */
export function createPipeline(options: PipelineOptions): RequestHandler {
  const operations = listOperations(options.spec).map((op) => compileOperation(op, options));
  const table = new RouteTable(operations);
  const { logger, metrics, staticHeaders = [], requestTimeoutMs } = options;
  const clock = options.clock ?? systemClock;
  const shared: Shared = {
    authenticate: options.authenticate,
    clock,
    enforceSunset: options.enforceSunset ?? false,
    recordDeprecated: deprecationRecorder({
      count: (operationId, shape) => metrics?.countDeprecatedCall?.(operationId, shape),
      log: (line) => logger.info('deprecated API used', line),
      now: clock.now,
    }),
  };
  const sampler = options.responseSampleRate
    ? responseSampler({
        spec: options.spec,
        rate: options.responseSampleRate,
        now: clock.now,
        report: (line) => logger.warn('response violates the spec (sampled)', line),
        count: (operationId, status) => metrics?.countResponseViolation?.(operationId, status),
      })
    : undefined;
  if (options.warmUp) {
    let next = 0;
    const warmOne = () => {
      const op = operations[next++];
      op?.validate.warm();
      // The sampled response checks of the operation too, so no request pays for compiling them.
      if (op && sampler) sampler.warm(op);
      if (next < operations.length) setTimeout(warmOne, 50).unref();
    };
    setTimeout(warmOne, 50).unref();
  }

  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const method = req.method;
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    for (const [name, value] of staticHeaders) res.setHeader(name, value);
    // A sampled response keeps the bytes it writes, to be checked once it is sent.
    const sentBody = sampler?.pick() ? sampler.capture(res) : undefined;

    let operation: CompiledOperation | undefined;
    const timer = setTimeout(() => {
      if (!res.headersSent)
        next(new AppError('REQUEST_TIMEOUT', `The request took longer than ${requestTimeoutMs} ms.`, undefined, 1));
    }, requestTimeoutMs);
    // 'close' comes once per response, after 'finish' when it was sent, alone when the client went away first.
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) return;
      const status = res.statusCode;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.observe(req.operationId ?? 'unmatched', method, status, seconds);
      logRequest(logger, status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', {
        request_id: req.requestId,
        method,
        // Not req.path: a router mounted with app.use (the docs pages) leaves it relative to the mount point.
        route: operation?.path ?? withoutQuery(req.originalUrl),
        operation_id: req.operationId,
        status,
        duration_ms: Math.round(seconds * 1e5) / 100,
        user_id: req.actor?.id,
      });
      if (sentBody && operation)
        sampler?.checkLater(
          operation,
          { status, headers: res.getHeaders(), head: method === 'HEAD' },
          sentBody,
          req.requestId,
        );
    });

    const dispatch = () => {
      const url = req.url;
      const query = url.indexOf('?');
      const found = table.find(method, query < 0 ? url : url.slice(0, query));
      if (found.kind === 'not-found') return next();
      if (found.kind === 'method-not-allowed') {
        res.setHeader('Allow', found.allow);
        return next(new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed on this path; use ${found.allow}.`));
      }
      const op = (operation = found.operation);
      req.operationId = op.operationId;
      // HEAD runs the GET operation; Node's response already knows it is answering HEAD and sends no body.
      if (method === 'HEAD') req.method = 'GET';
      run(shared, op, found.params, query >= 0, req, res, next).catch(next);
    };
    if (options.before) options.before(req, res, (err?: unknown) => (err ? next(err) : dispatch()));
    else dispatch();
  };
}

const NO_NOTICES: readonly Notice[] = [];

async function run(
  shared: Shared,
  op: CompiledOperation,
  rawParams: Record<string, string>,
  hasQuery: boolean,
  req: Request,
  res: Response,
  next: NextFunction,
): Promise<void> {
  // Deprecated shapes the request uses, found only for operations that have any: the rest pay nothing for them.
  const notices = op.lifecycle ? noticesFor(op.lifecycle, req.url, req.headers) : NO_NOTICES;
  const notice = mostUrgent(notices);
  if (notice && shared.enforceSunset) refuseSunset(op, notices, shared.clock.now(), res);
  if (op.parseBody) await op.parseBody(req, res, next).catch((err: unknown) => Promise.reject(bodyError(err)));
  if (!op.limitRate) await authorize(op.access, req, shared.authenticate);
  else {
    // The limit comes after authentication, so that it counts per user; a request whose credentials are refused
    // is counted too, for its client IP (or its user, when only the role is wrong), before its 401 or 403.
    let refused: { err: unknown } | undefined;
    try {
      await authorize(op.access, req, shared.authenticate);
    } catch (err) {
      refused = { err };
    }
    await op.limitRate(req, res, next);
    if (refused) throw refused.err;
  }
  if (notice) shared.recordDeprecated(op.operationId, notices, req.actor?.id);
  if (hasQuery || !op.validatesNothingWithoutQuery) await op.validate(req, res, next);
  if (res.headersSent) return;
  if (!op.handler) throw new AppError('NOT_IMPLEMENTED', `${op.operationId} is not implemented yet.`);
  // The validator's coerced path parameters, not the raw strings.
  const params = (req as { openapi?: { pathParams?: Record<string, unknown> } }).openapi?.pathParams ?? rawParams;
  const overflow = op.parameterCount > 0 && nonFiniteParameter({ path: params, query: req.query });
  if (overflow) throw new RequestError('VALIDATION_ERROR', 'The request is invalid.', [overflow]);
  const headers: Record<string, string | undefined> = {};
  for (const name of op.headerParams) headers[name] = req.get(name);
  const reply = await op.handler({
    params,
    query: req.query,
    headers,
    body: req.body as unknown,
    actor: req.actor,
    authorization: req.headers.authorization,
    requestId: req.requestId,
    baseUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}`,
  });
  if (notice && op.lifecycle?.statuses.has(reply.status))
    for (const [name, value] of notice.headers) res.setHeader(name, value);
  sendReply(res, reply, op.validatesResponses);
}

// A shape past its sunset answers 410 GONE, with the deprecation headers its 410 response declares.
function refuseSunset(op: CompiledOperation, notices: readonly Notice[], now: Date, res: Response): void {
  const gone = notices.find((n) => n.sunset !== undefined && n.sunset <= now);
  if (!gone?.sunset) return;
  if (op.lifecycle?.statuses.has(410)) for (const [name, value] of gone.headers) res.setHeader(name, value);
  const what =
    gone.shape === 'operation' ? op.operationId : `The ${gone.shape.replace('.', ' parameter ')} of ${op.operationId}`;
  throw new AppError('GONE', `${what} was retired on ${dayOf(gone.sunset)}; see ${gone.link}.`);
}

async function authorize(access: Access, req: Request, authenticate: Authenticate): Promise<void> {
  if (access === 'public') return;
  if (access === 'optional' && req.headers.authorization === undefined) return;
  req.actor = await authenticate(req);
  if (!req.actor) throw new AppError('NOT_AUTHENTICATED', 'Authentication is required.');
  if (access === 'superuser' && !req.actor.isSuperuser)
    throw new AppError('FORBIDDEN', 'This operation needs a superuser.');
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function compileOperation(op: SpecOperation, options: PipelineOptions): CompiledOperation {
  const parsers: RequestHandler[] = [];
  if (op.requestContentTypes.includes(JSON_TYPE)) parsers.push(jsonParser(options.maxBodyBytes));
  if (op.requestContentTypes.includes(FORM)) parsers.push(formParser(options.maxBodyBytes));
  let limitRate: Step | undefined;
  if (op.rateLimit !== undefined) {
    const limiter = options.rateLimiters?.[op.rateLimit];
    if (!limiter) throw new Error(`${op.operationId}: no limiter for x-rate-limit "${op.rateLimit}"`);
    limitRate = chain([limiter]);
  }
  const handler = options.handlers[op.operationId];
  return {
    ...op,
    parseBody: parsers.length ? chain(parsers) : undefined,
    limitRate,
    validate: validatorFor(options.spec, specDigest(options.spec), op, options.validateResponses),
    validatesNothingWithoutQuery:
      op.parameterCount === 0 && op.requestContentTypes.length === 0 && !options.validateResponses,
    validatesResponses: options.validateResponses,
    handler: typeof handler === 'function' ? (handler as AnyHandler) : undefined,
  };
}

// Shared by every operation that takes the media type: one parser instance each.
const parserCache = new Map<string, RequestHandler>();
function jsonParser(limit: number): RequestHandler {
  const key = `json ${limit}`;
  let parser = parserCache.get(key);
  if (!parser) parserCache.set(key, (parser = express.json({ limit, type: JSON_TYPE })));
  return parser;
}
function formParser(limit: number): RequestHandler {
  const key = `form ${limit}`;
  let parser = parserCache.get(key);
  if (!parser) parserCache.set(key, (parser = express.urlencoded({ extended: false, limit, parameterLimit: 20 })));
  return parser;
}

// One validator per operation and process, built on the operation's first request (or by `warmUp`): building one
// costs ~70 ms of CPU, most of it the validator compiling the OpenAPI meta-schema even with validateApiSpec off, so
// building all of them at start-up would delay readiness by seconds. Apps built from the same spec share them.
const validators = new Map<string, Step>();

function validatorFor(
  spec: OpenApiDocument,
  digest: string,
  op: SpecOperation,
  validateResponses: boolean,
): Step & { warm: () => void } {
  const key = `${digest} ${op.operationId} ${String(validateResponses)}`;
  const build = (): Step => {
    let step = validators.get(key);
    if (!step) {
      step = chain(
        OpenApiValidator.middleware({
          apiSpec: specForOperation(spec, op) as unknown as OpenAPIV3.DocumentV3_1,
          validateRequests: { allErrors: true },
          validateResponses: validateResponses ? { allErrors: true } : false,
          validateSecurity: false,
          // The spec is linted by Redocly in `make check`; the validator's meta-schema rejects the relative tokenUrl.
          validateApiSpec: false,
          validateFormats: true,
          // The spec has no multipart bodies: without this the validator runs multer's check on every request.
          fileUploader: false,
        }) as RequestHandler[],
      );
      validators.set(key, step);
    }
    return step;
  };
  let step: Step | undefined;
  const validate: Step & { warm: () => void } = Object.assign(
    (req: Request, res: Response, late: NextFunction) => (step ??= build())(req, res, late),
    { warm: () => void (step ??= build()) },
  );
  return validate;
}

const digests = new WeakMap<OpenApiDocument, string>();
function specDigest(spec: OpenApiDocument): string {
  let digest = digests.get(spec);
  if (!digest) digests.set(spec, (digest = createHash('sha256').update(JSON.stringify(spec)).digest('hex')));
  return digest;
}

// The validator's ajv coerces a numeral too long for a double (`?skip=9999…`, 309+ digits) to Infinity and then
// lets it pass as an integer within range; refuse it here instead of handing Infinity to a handler.
function nonFiniteParameter(sources: Record<'path' | 'query', unknown>): ErrorDetail | undefined {
  for (const [location, values] of Object.entries(sources) as ['path' | 'query', Record<string, unknown>][]) {
    for (const [name, value] of Object.entries(values ?? {})) {
      if (typeof value === 'number' && !Number.isFinite(value))
        return { location, path: `/${name}`, message: 'must be a finite number' };
    }
  }
  return undefined;
}

// Express's res.json and res.send re-derive per response what is fixed here (the media type and its charset, an
// automatic 304 that the spec does not declare for most operations); they are used only where the response
// validator needs them, since it checks the bodies that go through res.json.
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

function sendReply(res: Response, reply: Reply, viaExpress: boolean): void {
  if (res.headersSent) return;
  if (reply.headers) for (const name in reply.headers) res.setHeader(name, reply.headers[name] as string);
  res.statusCode = reply.status;
  const body = reply.body;
  if (body === undefined) {
    res.end();
  } else if (viaExpress) {
    if (typeof body === 'string') res.send(body);
    else res.json(body);
  } else {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    if (!res.hasHeader('Content-Type'))
      res.setHeader('Content-Type', typeof body === 'string' ? TEXT_CONTENT_TYPE : JSON_CONTENT_TYPE);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }
}

/** Answers every request that reached the end of the app with 404 NOT_FOUND in the error format. */
export function notFound(): RequestHandler {
  return (_req, _res, next: NextFunction) => next(new AppError('NOT_FOUND', 'No such route.'));
}
