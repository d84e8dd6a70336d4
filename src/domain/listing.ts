import type { PageRequest, SortKey } from '../data-access/listing';
import { AppError } from '../lib/errors';

/** A page of results with the counts of the pagination envelope. */
export type Page<T> = { items: T[]; total: number; skip: number; limit: number; hasMore: boolean };

/**
 * Parses `sort=-created_at,name` against a repository's sortable fields (field -> column); unknown or repeated
 * fields are a VALIDATION_ERROR. The spec's `pattern` already rejects them, this keeps SQL safe even when validation
 * is bypassed. No sort is the spec's default order when it declares none: by id.
 */
export function parseSort(sort: string | undefined, sortable: Record<string, string>): SortKey[] {
  if (sort === undefined || sort === '') return [];
  const seen = new Set<string>();
  return sort.split(',').map((raw) => {
    const field = raw.startsWith('-') ? raw.slice(1) : raw;
    const column = Object.hasOwn(sortable, field) ? sortable[field] : undefined;
    if (!column || seen.has(field)) {
      throw new AppError('VALIDATION_ERROR', 'The sort parameter is invalid.', [
        { field: ['sort'], message: `cannot sort by "${field}" (allowed: ${Object.keys(sortable).join(', ')})` },
      ]);
    }
    seen.add(field);
    return { column, direction: raw.startsWith('-') ? 'desc' : 'asc' };
  });
}

/** Wraps a page of items in the pagination envelope. */
export function toPage<T>(items: T[], total: number, page: PageRequest): Page<T> {
  return { items, total, skip: page.skip, limit: page.limit, hasMore: page.skip + items.length < total };
}
