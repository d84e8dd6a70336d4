import { AppError } from '../../lib/errors';
import type { Caller } from '../binding/operations';

/** The caller of an operation that needs a user: the access rule guarantees one, this narrows the type. */
export function requireCaller(caller: Caller | undefined): Caller {
  if (!caller) throw new AppError('NOT_AUTHENTICATED', 'Authentication is required.');
  return caller;
}

/** The page window of a list request, with the spec's defaults. */
export const pageOf = (query: { skip?: number; limit?: number }) => ({
  skip: query.skip ?? 0,
  limit: query.limit ?? 100,
});
