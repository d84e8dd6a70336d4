import { AppError } from '../lib/errors';

/** One ORDER BY key: a whitelisted column and its direction. */
export type SortKey = { column: string; direction: 'asc' | 'desc' };

/** A page request as every list operation takes it. */
export type PageRequest = { skip: number; limit: number };

/** A page of results with the pagination envelope's counts. */
export type Page<T> = { items: T[]; total: number; skip: number; limit: number; has_more: boolean };

/**
 * Parses `sort=-created_at,name` against a whitelist of API field -> column; unknown or repeated fields are a 422.
 * The spec's `pattern` already rejects them, this keeps SQL safe even when validation is bypassed.
 */
export function parseSort(sort: string | undefined, allowed: Record<string, string>, fallback: SortKey[]): SortKey[] {
  if (sort === undefined || sort === '') return fallback;
  const seen = new Set<string>();
  return sort.split(',').map((raw) => {
    const field = raw.startsWith('-') ? raw.slice(1) : raw;
    const column = Object.hasOwn(allowed, field) ? allowed[field] : undefined;
    if (!column || seen.has(field)) {
      throw new AppError('VALIDATION_ERROR', 'The sort parameter is invalid.', [
        {
          location: 'query',
          path: '/sort',
          message: `cannot sort by "${field}" (allowed: ${Object.keys(allowed).join(', ')})`,
        },
      ]);
    }
    seen.add(field);
    return { column, direction: raw.startsWith('-') ? 'desc' : 'asc' };
  });
}

/** Wraps a page of items in the pagination envelope. */
export function toPage<T>(items: T[], total: number, page: PageRequest): Page<T> {
  return { items, total, skip: page.skip, limit: page.limit, has_more: page.skip + items.length < total };
}
