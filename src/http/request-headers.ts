/**
 * Reads a request header by the name the spec gives it. The typed `headers` use the spec's spelling
 * (`Idempotency-Key`) while Node lower-cases incoming names, so the lookup goes through the lower-cased name.
 */
export function headerValue(headers: object, name: string): string | undefined {
  const value = (headers as Record<string, unknown>)[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}
