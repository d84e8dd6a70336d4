import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FoundPage, PageRequest, Position, SortKey } from '../data-access/listing';
import { AppError } from '../lib/errors';

/** A page of results with the counts of the pagination envelope and the cursor of the page after it, if any. */
export type Page<T> = {
  items: T[];
  total: number;
  skip: number;
  limit: number;
  hasMore: boolean;
  nextCursor: string | null;
};

/** How a page is asked for: from the start skipping `skip` items, or after the row a cursor names; at most `limit`. */
export type PageQuery = { skip: number; limit: number; cursor?: string };

/** The keys cursors are signed with (the configuration's `cursorKeys`): the first signs, every one verifies. */
export type CursorKeys = readonly Buffer[];

/**
 * A listing as its use case runs it: a name, the sort and the filters its repository applies once the actor's
 * rules are in (a user's own orders, active products only...). A cursor belongs to the one listing it was made for.
 */
export type Listing = { name: string; sort: SortKey[]; filter: object };

/** What a listing use case needs besides the database: the keys of its cursors. */
export type CursorDeps = { config: { cursorKeys: CursorKeys } };

/** The page request to give the repository, and how to wrap what it found in the envelope. */
export type Paging = { request: PageRequest; toPage: <T>(found: FoundPage<T>) => Page<T> };

/** What a listing finds when a rule, not the database, says it is empty. */
export const nothingFound = <T>(): FoundPage<T> => ({ items: [], total: 0, next: null });

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

/**
 * The paging of one request to a listing. A cursor is opened here, and refused (VALIDATION_ERROR on `cursor`) unless
 * this API signed it for this very listing: same name, sort and filters. With a cursor the page starts right after
 * the row it names, whatever was inserted or deleted since, and `skip` must stay 0: the two ways of saying where a
 * page starts do not combine. Every page with more rows after it gets the cursor of the next.
 */
export function paging(keys: CursorKeys, listing: Listing, query: PageQuery): Paging {
  const scope = scopeOf(listing);
  const after = query.cursor === undefined ? undefined : openCursor(keys, query.cursor, scope, listing.sort.length);
  if (after && query.skip !== 0) {
    throw new AppError('VALIDATION_ERROR', 'skip and cursor cannot be combined.', [
      { field: ['skip'], message: 'must be 0 with a cursor: the cursor already says where the page starts' },
    ]);
  }
  const signer = keys[0];
  if (!signer) throw new Error('no key to sign cursors with');
  return {
    request: { skip: query.skip, limit: query.limit, after },
    toPage: (found) => ({
      items: found.items,
      total: found.total,
      skip: query.skip,
      limit: query.limit,
      hasMore: found.next !== null,
      nextCursor: found.next && sealCursor(signer, scope, found.next),
    }),
  };
}

const CURSOR_VERSION = 1;

// What a cursor was made for, as a short digest: the token carries it, and names no filter value in clear.
const scopeOf = (listing: Listing): string =>
  createHash('sha256')
    .update(JSON.stringify([listing.name, listing.sort, listing.filter]))
    .digest('base64url')
    .slice(0, 16);

// 128 bits of HMAC-SHA256 over the encoded body, in base64url.
const macOf = (key: Buffer, body: string): string =>
  createHmac('sha256', key).update(body).digest().subarray(0, 16).toString('base64url');

/** `<body>.<mac>`: the body is base64url JSON `[version, scope, sort key values, id]`, the mac signs the body. */
function sealCursor(key: Buffer, scope: string, position: Position): string {
  const body = Buffer.from(JSON.stringify([CURSOR_VERSION, scope, position.keys, position.id])).toString('base64url');
  return `${body}.${macOf(key, body)}`;
}

function openCursor(keys: CursorKeys, token: string, scope: string, sortLength: number): Position {
  const [body, mac, ...rest] = token.split('.');
  // The mac is compared as the exact text this API wrote: base64url decoding would overlook stray characters.
  const signed = (key: Buffer) => body !== undefined && mac !== undefined && sameText(macOf(key, body), mac);
  if (rest.length > 0 || !keys.some(signed)) refuseCursor('is not a cursor this API issued (altered or truncated)');
  const [version, madeFor, values, id] = decodeBody(body ?? '');
  if (madeFor !== scope) {
    refuseCursor('was made for another listing (another sort or other filters); start again without cursor');
  }
  const wellFormed =
    version === CURSOR_VERSION &&
    Array.isArray(values) &&
    values.length === sortLength &&
    values.every((value) => typeof value === 'string') &&
    Number.isSafeInteger(id);
  if (!wellFormed) refuseCursor('is not a cursor of this version of the API; start again without cursor');
  return { keys: values as string[], id: id as number };
}

function decodeBody(body: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseCursor(message: string): never {
  throw new AppError('VALIDATION_ERROR', 'The cursor is invalid.', [{ field: ['cursor'], message }]);
}
