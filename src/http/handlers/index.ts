import type { AppDeps } from '../deps';
import type { Links } from '../binding/links';
import type { Metrics } from '../middleware/metrics';
import type { Handlers } from '../binding/operations';
import { authHandlers } from './auth';
import { catalogHandlers } from './catalog';
import { metaHandlers } from './meta';
import { ordersHandlers } from './orders';
import { postsHandlers } from './posts';
import { usersHandlers } from './users';

/** Every operation's handler, one module per spec tag; `satisfies Handlers` makes a missing one fail `tsc`. */
export function createHandlers(deps: AppDeps & { metrics: Metrics; links: Links }) {
  return {
    ...metaHandlers(deps),
    ...authHandlers(deps),
    ...usersHandlers(deps),
    ...catalogHandlers(deps),
    ...ordersHandlers(deps),
    ...postsHandlers(deps),
  } satisfies Handlers;
}
