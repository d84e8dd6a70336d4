import type { operations } from '../../generated/openapi';
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

type ContentOf<R> = R extends { content: infer C } ? (C extends Record<string, unknown> ? C : never) : never;
type StatusCode<S> = S extends number ? S : S extends `${infer N extends number}` ? N : never;
type ReplyFor<S, R> = [ContentOf<R>] extends [never]
  ? { status: StatusCode<S>; headers?: Record<string, string> }
  : { status: StatusCode<S>; body: ContentOf<R>[keyof ContentOf<R>]; headers?: Record<string, string> };

/** What a handler may answer: exactly the status codes and bodies the spec declares for the operation. */
export type HandlerReply<K extends OperationId> = {
  [S in keyof Op<K>['responses']]: ReplyFor<S, Op<K>['responses'][S]>;
}[keyof Op<K>['responses']];

/** A typed handler for one operation; expected failures are thrown as AppError, not returned. */
export type Handler<K extends OperationId> = (request: HandlerRequest<K>) => Promise<HandlerReply<K>>;

/** Marks an operation whose handler does not exist yet: it answers 501 NOT_IMPLEMENTED. */
export const notImplemented = Symbol('notImplemented');

/** The full handler map: every operationId must be present, so a missing or mistyped handler fails `tsc`. */
export type Handlers = { [K in OperationId]: Handler<K> | typeof notImplemented };

/** A part of the handler map, for one tag's module: unknown operationIds fail `tsc`. */
export type PartialHandlers = Partial<Handlers>;
