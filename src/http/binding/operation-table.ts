import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { HttpMethod, OpenApiDocument, SpecOperation } from './spec';

/** What a route lookup found: an operation with its raw path parameters, a path without that method, or nothing. */
export type Lookup<T> =
  | { kind: 'operation'; operation: T; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

type PathEntry<T> = {
  template: string;
  /** Null for a literal path, found by exact match. */
  pattern: RegExp | null;
  paramNames: string[];
  methods: Map<string, T>;
  /** The `Allow` header of a 405 on this path: its methods, with HEAD wherever GET is. */
  allow: string;
};

/**
 * The spec's paths compiled once into one lookup: literal paths by exact match, templated paths by one regular
 * expression each, most specific first (so `/users/me` wins over `/users/{user_id}`). HEAD finds the GET operation,
 * as RFC 9110 asks. A trailing slash is tolerated, as Express's default routing did.
 */
export class RouteTable<T extends { path: string; method: HttpMethod }> {
  private readonly literal = new Map<string, PathEntry<T>>();
  private readonly templated: PathEntry<T>[] = [];

  constructor(operations: T[]) {
    const entries = new Map<string, PathEntry<T>>();
    for (const op of operations) {
      let entry = entries.get(op.path);
      if (!entry) {
        const paramNames = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
        entry = {
          template: op.path,
          pattern: paramNames.length ? compile(op.path) : null,
          paramNames,
          methods: new Map(),
          allow: '',
        };
        entries.set(op.path, entry);
        if (entry.pattern) this.templated.push(entry);
        else this.literal.set(op.path, entry);
      }
      entry.methods.set(op.method.toUpperCase(), op);
    }
    for (const entry of entries.values()) {
      const get = entry.methods.get('GET');
      if (get && !entry.methods.has('HEAD')) entry.methods.set('HEAD', get);
      entry.allow = [...entry.methods.keys()].join(', ');
    }
  }

  /** Finds the operation of a request from its method and its path (without the query string). */
  find(method: string, pathname: string): Lookup<T> {
    const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    const literal = this.literal.get(path);
    if (literal) return resolve(literal, method, {});
    for (const entry of this.templated) {
      const match = (entry.pattern as RegExp).exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      // Percent-decoding can throw URIError on bad input; the error handler answers it with 422.
      entry.paramNames.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] as string)));
      return resolve(entry, method, params);
    }
    return { kind: 'not-found' };
  }
}

function resolve<T>(entry: PathEntry<T>, method: string, params: Record<string, string>): Lookup<T> {
  const operation = entry.methods.get(method);
  return operation ? { kind: 'operation', operation, params } : { kind: 'method-not-allowed', allow: entry.allow };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// `/products/{product_id}` becomes `^/products/([^/]+)$`: a parameter is one non-empty path segment.
function compile(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : escapeRegExp(part)))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * A copy of the spec that holds one operation and only the components it reaches, for that operation's own
 * express-openapi-validator instance: the validator finds a request's route by scanning every path of its spec on
 * every request, so an instance that knows one path finds it at once, and compiles only what that operation uses.
 */
export function specForOperation(doc: OpenApiDocument, op: SpecOperation): OpenApiDocument {
  const item = doc.paths[op.path] as Record<string, unknown>;
  const pathItem: Record<string, unknown> = { [op.method]: item[op.method] };
  if (item.parameters) pathItem.parameters = item.parameters;
  const components = (doc.components ?? {}) as Record<string, Record<string, unknown>>;
  const kept: Record<string, Record<string, unknown>> = {};
  const pending: unknown[] = [pathItem];
  const seen = new Set<string>();
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/') && !seen.has(value)) {
          seen.add(value);
          const [, , kind, name] = value.split('/') as [string, string, string, string];
          const target = components[kind]?.[name];
          if (target === undefined) throw new Error(`${op.operationId}: unresolved ${value}`);
          (kept[kind] ??= {})[name] = target;
          pending.push(target);
        } else pending.push(value);
      }
    }
  }
  if (components.securitySchemes) kept.securitySchemes = components.securitySchemes;
  return structuredClone({ ...doc, paths: { [op.path]: pathItem }, components: kept }) as OpenApiDocument;
}

/**
 * Runs Express middlewares one after another as one step that resolves when the last calls `next()`. An error
 * passed to `next` after that (the response validator reports a bad response when the handler sends it) goes to
 * `late`, the request's own Express `next`.
 */
export function chain(
  middlewares: RequestHandler[],
): (req: Request, res: Response, late: NextFunction) => Promise<void> {
  return (req, res, late) =>
    new Promise((resolve, reject) => {
      let index = 0;
      let settled = false;
      const next = (err?: unknown) => {
        if (settled) {
          if (err) late(err);
          return;
        }
        if (err) {
          settled = true;
          // Passed on as it is: the error handler reads the validator's and the parsers' errors by their shape.
          return reject(err);
        }
        const middleware = middlewares[index++];
        if (!middleware) {
          settled = true;
          return resolve();
        }
        try {
          void middleware(req, res, next);
        } catch (thrown) {
          settled = true;
          reject(thrown);
        }
      };
      next();
    });
}
