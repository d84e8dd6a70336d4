import type { Knex } from 'knex';

/** One ORDER BY key: a whitelisted column and its direction. */
export type SortKey = { column: string; direction: 'asc' | 'desc' };

/** The window of a listing: how many rows to skip and how many to return at most. */
export type PageRequest = { skip: number; limit: number };

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
