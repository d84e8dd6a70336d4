import { createHash } from 'node:crypto';
import { AppError } from '../lib/errors';

/** An entity tag as a client sent it: its opaque value, and whether it was marked weak (`W/`). */
export type EntityTag = { opaque: string; weak: boolean };

/** A client's `If-Match` condition: `*` (any current state) or the tags of the states it accepts. */
export type IfMatch = '*' | EntityTag[];

/**
 * The version of a resource: a hash of its record, which holds exactly what its representation shows.
 *
 * Why a hash and not a version column: a product shows its category's name and slug and a post its author's name,
 * so a counter on their own rows would miss changes made in another table (or need triggers fanning out to every
 * product of a renamed category). The hash changes whenever anything visible changes, wherever it was written, and
 * needs no migration. Lost updates are prevented by where it is compared: on the record read after the row lock, in
 * the transaction that then writes (see `assertIfMatch`'s callers), so two editors holding the same version
 * serialize on the lock and the second sees the first one's version.
 */
export function versionOf(record: object): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('base64url');
}

/**
 * Throws PRECONDITION_FAILED unless `ifMatch` accepts the current version: `*` accepts any (the caller has already
 * found the resource), a list accepts a strong tag equal to it. RFC 9110 §13.1.1 has If-Match compare strongly, so a
 * weak tag never matches. No condition always holds.
 */
export function assertIfMatch(ifMatch: IfMatch | undefined, currentVersion: string): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  if (ifMatch.some((tag) => !tag.weak && tag.opaque === currentVersion)) return;
  throw new AppError(
    'PRECONDITION_FAILED',
    'The resource was changed since you read it; read it again and retry with its current ETag.',
  );
}
