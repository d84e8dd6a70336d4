import type { components, operations } from '../../generated/openapi';
import type { Actor } from '../../domain/actor';

/** Every operationId the spec declares. */
export type OperationId = keyof operations;

type Op<K extends OperationId> = operations[K];
type Params<K extends OperationId, Where extends 'path' | 'query' | 'header'> = Op<K>['parameters'] extends {
  [P in Where]?: infer T;
}
  ? [T] extends [never]
    ? Record<string, never>
    : NonNullable<T>
  : never;
type RequestBodyOf<K extends OperationId> = Op<K>['requestBody'] extends { content: infer C } | undefined
  ? C[keyof C]
  : undefined;

/** What a handler receives: the validated, typed parts of the request. */
export type HandlerRequest<K extends OperationId> = {
  params: Params<K, 'path'>;
  query: Params<K, 'query'>;
  headers: Params<K, 'header'>;
  body: RequestBodyOf<K>;
  /** Who calls: the authenticated user, when the operation has one. */
  actor: Actor | undefined;
  /** The raw `Authorization` header, for the rare operation that checks a static token itself. */
  authorization: string | undefined;
  requestId: string;
  /** The request's base URL (scheme and host), for building `Location` headers. */
  baseUrl: string;
};

/**
 * The response headers the pipeline and its middleware set themselves wherever the spec declares them, never a
 * handler: `X-Request-Id` (pipeline.ts, on every response), the rate limiter's `RateLimit` and `RateLimit-Policy`
 * (rate-limit.ts), CORS's `Access-Control-Allow-Origin` (hardening.ts) and a deprecation's `Deprecation`, `Sunset`
 * and `Link` (pipeline.ts, from the spec's lifecycle marks). A handler neither has to nor may return them. Each is
 * a header component of the spec, so a name the spec does not have fails `tsc`; `scripts/check-spec.ts` lets only
 * these components be other than required.
 */
export const PIPELINE_HEADERS = [
  'X-Request-Id',
  'RateLimit',
  'RateLimit-Policy',
  'Access-Control-Allow-Origin',
  'Deprecation',
  'Sunset',
  'Link',
] as const satisfies readonly (keyof components['headers'])[];
type PipelineHeader = (typeof PIPELINE_HEADERS)[number];

type ContentOf<R> = R extends { content: infer C } ? (C extends Record<string, unknown> ? C : never) : never;
type StatusCode<S> = S extends number ? S : S extends `${infer N extends number}` ? N : never;
// Header values go on the wire as strings: an integer header (Retry-After) is sent as its numeral.
type HeaderValue<T> = T extends string ? T : T extends number ? `${number}` : T extends boolean ? `${T}` : string;
type DeclaredHeaders<R> = R extends { headers: infer H } ? H : Record<string, never>;
// The declared headers minus the index signature openapi-typescript adds and the pipeline's own; a header the spec
// marks required (a referenced component: openapi-typescript types those as always present) stays required.
// `Content-Type` belongs to the response's content (the spec may not declare it as a header), so any body may set it.
type HandlerHeaders<R> = {
  [N in keyof DeclaredHeaders<R> as string extends N ? never : N extends PipelineHeader ? never : N]: HeaderValue<
    NonNullable<DeclaredHeaders<R>[N]>
  >;
} & ([ContentOf<R>] extends [never] ? unknown : { 'Content-Type'?: string });
type HeadersOf<R> = [keyof HandlerHeaders<R>] extends [never]
  ? { headers?: Record<string, never> }
  : Record<string, never> extends HandlerHeaders<R>
    ? { headers?: HandlerHeaders<R> }
    : { headers: HandlerHeaders<R> };
type ReplyFor<S, R> = ([ContentOf<R>] extends [never]
  ? { status: StatusCode<S> }
  : { status: StatusCode<S>; body: ContentOf<R>[keyof ContentOf<R>] }) &
  HeadersOf<R>;

/**
 * What a handler may answer: exactly the status codes and bodies the spec declares for the operation, each with the
 * response headers the spec declares for that status: the required ones must be there, undeclared ones fail `tsc`.
 */
export type HandlerReply<K extends OperationId> = {
  [S in keyof Op<K>['responses']]: ReplyFor<S, Op<K>['responses'][S]>;
}[keyof Op<K>['responses']];

// The response the spec declares for status S of operation K.
type ResponseFor<K extends OperationId, S> = {
  [C in keyof Op<K>['responses']]: StatusCode<C> extends S ? Op<K>['responses'][C] : never;
}[keyof Op<K>['responses']];
// One sentence for each header a reply of the handler returns that the spec does not declare for its status.
type UndeclaredHeaders<K extends OperationId, Reply> = Reply extends { status: infer S; headers?: infer H }
  ? `${K}: status ${S & number} does not declare ${Exclude<keyof H & string, keyof HandlerHeaders<ResponseFor<K, S>>>}`
  : never;
type RepliesOf<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;

/**
 * The handler map with every handler that returns a header its status does not declare marked, for a second
 * `satisfies` after `satisfies Handlers`: TypeScript checks excess properties of an object literal only where it is
 * assigned, not where a function returns it, so `satisfies Handlers` alone lets an undeclared header through.
 */
export type DeclaredHeadersOnly<T> = {
  [K in keyof T]: K extends OperationId
    ? [UndeclaredHeaders<K, RepliesOf<T[K]>>] extends [never]
      ? T[K]
      : T[K] & { 'undeclared response header': UndeclaredHeaders<K, RepliesOf<T[K]>> }
    : T[K];
};

/** A typed handler for one operation; expected failures are thrown as AppError, not returned. */
export type Handler<K extends OperationId> = (request: HandlerRequest<K>) => Promise<HandlerReply<K>>;

/** Marks an operation whose handler does not exist yet: it answers 501 NOT_IMPLEMENTED. */
export const notImplemented = Symbol('notImplemented');

/** The full handler map: every operationId must be present, so a missing or mistyped handler fails `tsc`. */
export type Handlers = { [K in OperationId]: Handler<K> | typeof notImplemented };

/** A part of the handler map, for one tag's module: unknown operationIds fail `tsc`. */
export type PartialHandlers = Partial<Handlers>;
