import type { components } from '../generated/openapi';

/** Stable machine-readable error codes, as the spec's `ErrorCode` lists them; `src/http/errors/error-status.ts` maps each to an HTTP status. */
export type ErrorCode = components['schemas']['ErrorCode'];

/** Where an invalid value was found, mirrored in `ErrorResponse.details`. */
export type ErrorDetail = { location: 'body' | 'query' | 'path' | 'header'; path: string; message: string };

/** An expected failure of a use case: it carries a code, never an HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
