import type { AppDeps } from '../deps';
import type { Links } from '../binding/links';
import type { Metrics } from '../middleware/metrics';
import type { DeclaredHeadersOnly, Handlers } from '../binding/operations';
import { authHandlers } from './auth';
import { catalogHandlers } from './catalog';
import { metaHandlers } from './meta';
import { ordersHandlers } from './orders';
import { postsHandlers } from './posts';
import { usersHandlers } from './users';

/**
 * Every operation's handler, one module per spec tag; `satisfies Handlers` makes a missing one fail `tsc`, and
 * `satisfies DeclaredHeadersOnly` a response header the spec does not declare for the status it goes with.
 */
export function createHandlers(deps: AppDeps & { metrics: Metrics; links: Links }) {
  const handlers = {
    ...metaHandlers(deps),
    ...authHandlers(deps),
    ...usersHandlers(deps),
    ...catalogHandlers(deps),
    ...ordersHandlers(deps),
    ...postsHandlers(deps),
  } satisfies Handlers;
  return handlers satisfies DeclaredHeadersOnly<typeof handlers>;
}
