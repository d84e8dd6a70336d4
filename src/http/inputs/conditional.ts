import type { IfMatch } from '../../domain/preconditions';

/** The `ETag` header value of a resource version (a strong tag). */
export const etagOf = (version: string): string => `"${version}"`;

// One entity tag of a list; the spec's pattern has already checked the header's syntax.
const ENTITY_TAG = /(W\/)?"([^"]*)"/g;

/**
 * The condition an `If-Match` header states, for the use case to check: `*`, or its entity tags with their
 * weakness kept (the domain compares strongly). Absent: no condition.
 */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  // An empty header is no list of tags: the same as none.
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  return [...header.matchAll(ENTITY_TAG)].map((m) => ({ weak: m[1] !== undefined, opaque: m[2] ?? '' }));
}

/** Whether an `If-None-Match` header names this ETag (`*` names any); compared weakly, as RFC 9110 asks for GET. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
