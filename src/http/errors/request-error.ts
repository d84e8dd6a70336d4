import type { components } from '../../generated/openapi';
import { AppError, type ErrorCode, type FieldIssue } from '../../lib/errors';

/** Where an invalid value was found in a request, as `ErrorResponse.details` lists it. */
export type ErrorDetail = components['schemas']['ErrorDetail'];

/** An error about the request itself, found by the http layer, which knows each offending value's location. */
export class RequestError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[],
  ) {
    super(code, message);
  }
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The `details` of an error: a request error's own, or a use case's field issues in the spec's names. A use case
 * names the input field it refused; the field came from the query string when the request had a parameter of that
 * name there, else from the body.
 */
export function detailsOf(error: AppError, query: Record<string, unknown> | undefined): ErrorDetail[] | undefined {
  if (error instanceof RequestError) return error.details;
  return error.issues?.map((issue: FieldIssue) => {
    const path = issue.field.map((part) => (typeof part === 'string' ? snakeCase(part) : String(part)));
    const location = query && path[0] !== undefined && Object.hasOwn(query, path[0]) ? 'query' : 'body';
    return { location, path: `/${path.join('/')}`, message: issue.message };
  });
}
