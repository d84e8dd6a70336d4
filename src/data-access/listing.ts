import type { Knex } from 'knex';
import type { PageRequest, SortKey } from '../domain/listing';

/** Applies the sort keys, then `id` as a stable tie-break, then the page window. */
export function orderAndPage<T extends Knex.QueryBuilder>(
  query: T,
  sort: SortKey[],
  page: PageRequest,
  idColumn = 'id',
): T {
  for (const key of sort) query.orderBy(key.column, key.direction);
  if (!sort.some((key) => key.column === idColumn)) query.orderBy(idColumn, sort[0]?.direction ?? 'asc');
  return query.offset(page.skip).limit(page.limit) as T;
}

/** Escapes `%`, `_` and `\` so a user's search text matches literally inside ILIKE '%...%'. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
