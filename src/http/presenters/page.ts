import type { Page } from '../../domain/listing';

/** The pagination envelope of the spec around a page of presented items. */
export function presentPage<T, P>(page: Page<T>, present: (item: T) => P) {
  return {
    items: page.items.map(present),
    total: page.total,
    skip: page.skip,
    limit: page.limit,
    has_more: page.hasMore,
    next_cursor: page.nextCursor,
  };
}
