import type { components } from '../generated/openapi';

/** Stable machine-readable error codes, as the spec's `ErrorCode` lists them; `src/http/errors/error-status.ts` maps each to an HTTP status. */
export type ErrorCode = components['schemas']['ErrorCode'];

/**
 * An input a use case refused: the field in the use case's own terms (names and indexes, for example
 * `['items', 2, 'quantity']`) and why. The http layer turns it into an `ErrorResponse.details` entry.
 */
export type FieldIssue = { field: readonly (string | number)[]; message: string };

/** An expected failure of a use case: it carries a code, never an HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: readonly FieldIssue[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
