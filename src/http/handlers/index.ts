import type { AppDeps } from '../deps';
import type { Handlers } from '../operations';
import { metaHandlers } from './meta';

/** Every operation's handler, one module per spec tag; `satisfies Handlers` makes a missing one fail `tsc`. */
export function createHandlers(deps: AppDeps) {
  return {
    ...metaHandlers(deps),
  } satisfies Handlers;
}
