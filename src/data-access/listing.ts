import type { Knex } from 'knex';

/** One ORDER BY key: a whitelisted column and its direction. */
export type SortKey = { column: string; direction: 'asc' | 'desc' };

/**
 * A row's place in a listing's order: the values of its sort keys in PostgreSQL's text form (exact: a timestamp
 * keeps its microseconds, which a Date would lose) and its id, the final tie-break.
 */
export type Position = { keys: string[]; id: number };

/**
 * The window of a listing: at most `limit` rows, either after skipping `skip` of them (OFFSET, whose cost grows
 * with the depth) or, with `after`, the rows that follow that position in the order (a keyset page: an index range
 * scan that costs the same at any depth). `skip` is 0 with `after`.
 */
export type PageRequest = { skip: number; limit: number; after?: Position };

/** One page of a listing as a repository returns it: its items, how many match in all, and where the next starts. */
export type FoundPage<T> = { items: T[]; total: number; next: Position | null };

// Each sort key's value in its text form, selected next to the row's columns, from which the next position is read.
const keyAlias = (index: number) => `page_key_${index}`;

/**
 * The full order of a listing: the sort keys, then `id` as a tie-break in the direction of the first key, so that
 * no two rows compare equal and every page boundary is exact. Every sortable column is NOT NULL (see the
 * migrations): a NULL would fail the keyset comparison below.
 */
function fullOrder(sort: SortKey[], idColumn: string): SortKey[] {
  if (sort.some((key) => key.column === idColumn)) return sort;
  return [...sort, { column: idColumn, direction: sort[0]?.direction ?? 'asc' }];
}

/** Orders the query by the sort keys then id, and selects each sort key's text form for the page's position. */
export function orderRows<T extends Knex.QueryBuilder>(query: T, sort: SortKey[], idColumn = 'id'): T {
  for (const key of fullOrder(sort, idColumn)) query.orderBy(key.column, key.direction);
  sort.forEach((key, i) => query.select(query.client.raw('(??)::text as ??', [key.column, keyAlias(i)]) as Knex.Raw));
  return query;
}

/**
 * Applies the order (orderRows), then the window: the rows after `page.after`, or after `page.skip` rows; one row
 * more than the page is asked for, so that `cutPage` knows whether another page follows.
 */
export function orderAndPage<T extends Knex.QueryBuilder>(
  query: T,
  sort: SortKey[],
  page: PageRequest,
  idColumn = 'id',
): T {
  orderRows(query, sort, idColumn);
  if (page.after) after(query, fullOrder(sort, idColumn), [...page.after.keys, String(page.after.id)]);
  return query.offset(page.skip).limit(page.limit + 1) as T;
}

/**
 * The keyset condition: rows strictly after the given values in the order of `keys`. With one direction for all
 * keys it is one row-value comparison, `(a, b, id) > (?, ?, ?)`, which an index on (a, b, id), or on a prefix of it,
 * answers with a range scan. Mixed directions need the expanded form `a > ? OR (a = ? AND (b < ? OR (b = ? AND
 * id > ?)))`, preceded by the looser `a >= ?` that an index on `a` can start its range scan at. The values are bound
 * parameters in their text form: PostgreSQL converts each to its column's type.
 */
function after(query: Knex.QueryBuilder, keys: SortKey[], values: string[]): void {
  const [first] = keys;
  if (!first) return;
  const op = (key: SortKey) => (key.direction === 'asc' ? '>' : '<');
  if (keys.every((key) => key.direction === first.direction)) {
    const list = keys.map(() => '??').join(', ');
    const params = keys.map(() => '?').join(', ');
    query.whereRaw(`(${list}) ${op(first)} (${params})`, [...keys.map((key) => key.column), ...values]);
    return;
  }
  // Built from the last key back: each level's bindings come before those of the levels inside it.
  const bindings: string[] = [];
  const chain = keys.reduceRight((inner, key, i) => {
    const value = values[i] ?? '';
    if (inner === '') {
      bindings.unshift(key.column, value);
      return `?? ${op(key)} ?`;
    }
    bindings.unshift(key.column, value, key.column, value);
    return `(?? ${op(key)} ? OR (?? = ? AND ${inner}))`;
  }, '');
  query.whereRaw(`?? ${op(first)}= ? AND ${chain}`, [first.column, values[0] ?? '', ...bindings]);
}

/**
 * Cuts the rows of `orderAndPage` (one more than the page when another page follows) to the page, and reads the
 * position of its last row when another follows: where the next page starts.
 */
export function cutPage<R extends { id: number | string }>(
  rows: R[],
  sort: SortKey[],
  limit: number,
): { rows: R[]; next: Position | null } {
  if (rows.length <= limit) return { rows, next: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1] as R & Record<string, unknown>;
  return { rows: page, next: { keys: sort.map((_, i) => String(last[keyAlias(i)])), id: Number(last.id) } };
}

/** Escapes `%`, `_` and `\` so a user's search text matches literally inside ILIKE '%...%'. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
