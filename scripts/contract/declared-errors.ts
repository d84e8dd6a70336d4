import { ERROR_STATUS } from '../../src/http/errors/error-status';
import type { ErrorCode } from '../../src/lib/errors';
import { listOperations, NO_RATE_LIMIT, type OpenApiDocument, type SpecOperation } from '../../src/http/binding/spec';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The statuses the pipeline can answer for an operation before or around its handler, derived from what the spec
 * says of it: validation (an unknown query parameter is possible everywhere), unavailability and timeouts, body
 * parsing, credentials, rate limits (every operation whose `x-rate-limit` policy, its own or the document's, is not
 * `none`) and sunsets.
 */
export function pipelineStatuses(op: SpecOperation): string[] {
  const statuses = ['422', '500', '503'];
  if (op.requestContentTypes.length) statuses.push('400', '413', '415');
  if (op.access !== 'public') statuses.push('401', '403');
  if (op.rateLimit) statuses.push('429');
  // ENFORCE_SUNSET answers 410 GONE to a request that uses a shape past its x-sunset date.
  if (op.lifecycle?.sunset) statuses.push('410');
  return statuses.sort();
}

function deref(doc: Json, node: unknown): unknown {
  let current = node;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string' && hops < 10; hops++) {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((n, segment) => (isObject(n) ? n[segment] : undefined), doc);
  }
  return current;
}

/** The `error_code` values an error response's JSON schema allows: its own enum, found through `allOf`. */
export function errorCodesOf(doc: Json, response: unknown): string[] | undefined {
  const resolved = deref(doc, response);
  const content = isObject(resolved) && isObject(resolved.content) ? resolved.content['application/json'] : undefined;
  const visit = (schema: unknown): string[] | undefined => {
    const s = deref(doc, schema);
    if (!isObject(s)) return undefined;
    const own = isObject(s.properties) && isObject(s.properties.error_code) ? s.properties.error_code.enum : undefined;
    if (Array.isArray(own)) return own as string[];
    for (const part of Array.isArray(s.allOf) ? s.allOf : []) {
      const found = visit(part);
      if (found) return found;
    }
    return undefined;
  };
  return isObject(content) ? visit(content.schema) : undefined;
}

/**
 * What the spec fails to declare: a status the pipeline can produce that an operation does not list, an error
 * response without its own `error_code` enum, a code the `ErrorCode` list lacks, a code under a status that
 * `src/http/errors/error-status.ts` does not give it, or an operation with no rate-limit policy that is not
 * exempted with `x-rate-limit: none`.
 */
export function undeclaredErrors(doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  const all = new Set(
    ((deref(doc, { $ref: '#/components/schemas/ErrorCode' }) as Json | undefined)?.enum ?? []) as string[],
  );
  for (const code of Object.keys(ERROR_STATUS)) if (!all.has(code)) problems.push(`ErrorCode lacks ${code}`);
  for (const op of listOperations(doc)) {
    const responses = (doc.paths[op.path]?.[op.method] as Json | undefined)?.responses;
    const declared = isObject(responses) ? responses : {};
    const exempt = (doc.paths[op.path]?.[op.method] as Json | undefined)?.['x-rate-limit'] === NO_RATE_LIMIT;
    if (!op.rateLimit && !exempt)
      problems.push(`${op.operationId}: has no rate-limit policy; name one in x-rate-limit, or x-rate-limit: none`);
    for (const status of pipelineStatuses(op)) {
      if (!(status in declared)) problems.push(`${op.operationId}: can answer ${status} but does not declare it`);
    }
    for (const [status, response] of Object.entries(declared)) {
      if (Number(status) < 400) continue;
      const codes = errorCodesOf(doc as unknown as Json, response);
      if (!codes?.length) {
        problems.push(`${op.operationId} ${status}: the error response lists no error_code enum`);
        continue;
      }
      for (const code of codes) {
        if (!all.has(code)) problems.push(`${op.operationId} ${status}: ${code} is not in ErrorCode`);
        else if (String(ERROR_STATUS[code as ErrorCode]) !== status)
          problems.push(`${op.operationId} ${status}: ${code} is answered with ${ERROR_STATUS[code as ErrorCode]}`);
      }
    }
  }
  return problems;
}
