import { Router, type Request, type Response } from 'express';
import { AppError, type ErrorDetail } from '../lib/errors';
import type { Caller, Handlers, OperationId } from './operations';
import type { Access, SpecOperation } from './spec';

/** Resolves the caller of a request from its credentials, or throws the AppError that explains why not. */
export type Authenticate = (req: Request) => Promise<Caller | undefined>;

/** Enforces each operation's access (public, user, superuser) as the spec declares it, before validation runs. */
export function accessRouter(operations: SpecOperation[], authenticate: Authenticate): Router {
  const router = Router();
  for (const op of operations) {
    router[op.method](op.expressPath, (req, _res, next) => {
      req.operationId = op.operationId;
      // 'router' leaves this router at the first (most specific) match, so one operation's rule applies.
      authorize(op.access, req, authenticate).then(() => next('router'), next);
    });
  }
  return router;
}

async function authorize(access: Access, req: Request, authenticate: Authenticate): Promise<void> {
  if (access === 'public') return;
  if (access === 'optional' && req.get('Authorization') === undefined) return;
  req.caller = await authenticate(req);
  if (!req.caller) throw new AppError('NOT_AUTHENTICATED', 'Authentication is required.');
  if (access === 'superuser' && !req.caller.isSuperuser)
    throw new AppError('FORBIDDEN', 'This operation needs a superuser.');
}

/** Binds each spec operation to its typed handler; operations marked notImplemented answer 501. */
export function operationRouter(operations: SpecOperation[], handlers: Handlers): Router {
  const router = Router();
  for (const op of operations) {
    const handler: unknown = handlers[op.operationId as OperationId];
    router[op.method](op.expressPath, async (req: Request, res: Response) => {
      // Defence in depth: a handler runs only after its own operation's access rule did.
      if (req.operationId !== op.operationId) throw new Error(`access rule of ${op.operationId} did not run`);
      if (typeof handler !== 'function') {
        throw new AppError('NOT_IMPLEMENTED', `${op.operationId} is not implemented yet.`);
      }
      // The validator's coerced path parameters, not Express's strings.
      const params = (req as { openapi?: { pathParams?: Record<string, unknown> } }).openapi?.pathParams ?? req.params;
      const overflow = nonFiniteParameter({ path: params, query: req.query });
      if (overflow) throw new AppError('VALIDATION_ERROR', 'The request is invalid.', [overflow]);
      const reply = (await (handler as (r: unknown) => Promise<Reply>)({
        params,
        query: req.query,
        headers: Object.fromEntries(op.headerParams.map((name) => [name, req.get(name)])),
        body: req.body,
        caller: req.caller,
        authorization: req.get('Authorization'),
        requestId: req.requestId,
        baseUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}`,
      })) satisfies Reply;
      sendReply(res, reply);
    });
  }
  return router;
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

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function sendReply(res: Response, reply: Reply): void {
  if (res.headersSent) return;
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  if (reply.body === undefined) res.end();
  else if (typeof reply.body === 'string') res.send(reply.body);
  else res.json(reply.body);
}
