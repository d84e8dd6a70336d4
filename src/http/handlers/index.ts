import type { AppDeps } from '../deps';
import type { Handlers } from '../operations';
import { authHandlers } from './auth';
import { metaHandlers } from './meta';
import { usersHandlers } from './users';

/** Every operation's handler, one module per spec tag; `satisfies Handlers` makes a missing one fail `tsc`. */
export function createHandlers(deps: AppDeps) {
  return {
    ...metaHandlers(deps),
    ...authHandlers(deps),
    ...usersHandlers(deps),
  } satisfies Handlers;
}
