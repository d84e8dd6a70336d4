import type { OperationId } from './operations';
import { listOperations, type OpenApiDocument } from './spec';

/** Builds the URL of an operation's resource from the operation's path in the spec, for `Location` headers. */
export type Links = (operationId: OperationId, params: Record<string, number | string>, baseUrl: string) => string;

/** Reads every operation's path template from the spec once. */
export function createLinks(doc: OpenApiDocument): Links {
  const templates = new Map(listOperations(doc).map((op) => [op.operationId, op.path]));
  return (operationId, params, baseUrl) => {
    const template = templates.get(operationId);
    if (template === undefined) throw new Error(`the spec has no operation ${operationId}`);
    return `${baseUrl}${template.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`${operationId} needs the path parameter ${name}`);
      return encodeURIComponent(String(value));
    })}`;
  };
}
