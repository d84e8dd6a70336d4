import type { Actor } from '../../domain/actor';
import { AppError } from '../../lib/errors';

/** The actor of an operation that needs a user: the access rule guarantees one, this narrows the type. */
export function requireActor(actor: Actor | undefined): Actor {
  if (!actor) throw new AppError('NOT_AUTHENTICATED', 'Authentication is required.');
  return actor;
}

/**
 * A parameter or body field the spec declares a default for: the request validator has filled the default in when
 * the request had none, so it is never missing here (unless the spec lost its default: a 500 the suite catches).
 */
export function withDefault<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`the spec declares no default for ${name}`);
  return value;
}

/** The page of a list request: its window with the spec's defaults, and the cursor it continues from, if any. */
export const pageOf = (query: { skip?: number; limit?: number; cursor?: string }) => ({
  skip: withDefault(query.skip, 'skip'),
  limit: withDefault(query.limit, 'limit'),
  cursor: query.cursor,
});
