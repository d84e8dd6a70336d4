import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

// Found by walking up so the same code works from `src/` and from the compiled `dist/src/`.
function findSpec(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'openapi', 'openapi.yaml');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`openapi/openapi.yaml not found above ${from}`);
  }
}

export const SPEC_PATH = findSpec(__dirname);

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof METHODS)[number];

/**
 * Who may call an operation, read from its `security` and `x-required-role`:
 * `security: []` is public, `[{}, {scheme: []}]` is public with an optional token, anything else needs a user.
 */
export type Access = 'public' | 'optional' | 'user' | 'superuser';

/** One operation of the spec, with everything the router needs to bind it. */
export type SpecOperation = {
  operationId: string;
  method: HttpMethod;
  path: string;
  expressPath: string;
  access: Access;
  tags: string[];
  /** The media types the request body may have, e.g. `application/json`. */
  requestContentTypes: string[];
  /** The rate limit group of `x-rate-limit`, when the operation has one. */
  rateLimit: string | undefined;
  /** The header parameters it declares, spelled as in the spec. */
  headerParams: string[];
};

type RawParameter = { name?: string; in?: string; $ref?: string };

type RawOperation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  tags?: string[];
  'x-required-role'?: string;
  'x-rate-limit'?: string;
  parameters?: RawParameter[];
  requestBody?: { content?: Record<string, unknown> };
};
export type OpenApiDocument = {
  openapi: string;
  security?: Record<string, string[]>[];
  paths: Record<string, Partial<Record<HttpMethod, RawOperation>>>;
  [key: string]: unknown;
};

/** Reads and parses the spec file. */
export function loadSpec(file = SPEC_PATH): OpenApiDocument {
  return YAML.parse(fs.readFileSync(file, 'utf8')) as OpenApiDocument;
}

function accessOf(op: RawOperation, globalSecurity: Record<string, string[]>[] | undefined, where: string): Access {
  const security = op.security ?? globalSecurity ?? [];
  const anonymousAllowed =
    security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0);
  const tokenAccepted = security.some((requirement) => Object.keys(requirement).length > 0);
  const role = op['x-required-role'];
  if (role !== undefined && role !== 'superuser') throw new Error(`${where}: unknown x-required-role "${role}"`);
  if (anonymousAllowed && role) throw new Error(`${where}: x-required-role on a public operation`);
  if (anonymousAllowed) return tokenAccepted ? 'optional' : 'public';
  return role ?? 'user';
}

// Literal segments sort before templated ones, so `/users/me` is matched before `/users/{user_id}`.
const specificity = (specPath: string) => specPath.split('/').map((segment) => (segment.startsWith('{') ? 1 : 0));
function bySpecificity(a: SpecOperation, b: SpecOperation): number {
  const [left, right] = [specificity(a.path), specificity(b.path)];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function resolveParameter(doc: OpenApiDocument, parameter: RawParameter): RawParameter {
  const prefix = '#/components/parameters/';
  if (!parameter.$ref?.startsWith(prefix)) return parameter;
  const components = (doc.components ?? {}) as { parameters?: Record<string, RawParameter> };
  return components.parameters?.[parameter.$ref.slice(prefix.length)] ?? parameter;
}

/** Lists the spec's operations, most specific paths first, converting `{param}` paths to Express patterns. */
export function listOperations(doc: OpenApiDocument): SpecOperation[] {
  const operations: SpecOperation[] = [];
  for (const [specPath, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${specPath}`;
      if (!op.operationId) throw new Error(`${where} has no operationId`);
      if (operations.some((known) => known.operationId === op.operationId)) {
        throw new Error(`${where} repeats operationId ${op.operationId}`);
      }
      operations.push({
        operationId: op.operationId,
        method,
        path: specPath,
        expressPath: specPath.replace(/\{([^}]+)\}/g, ':$1'),
        access: accessOf(op, doc.security, where),
        tags: op.tags ?? [],
        requestContentTypes: Object.keys(op.requestBody?.content ?? {}),
        rateLimit: op['x-rate-limit'],
        headerParams: (op.parameters ?? [])
          .map((p) => resolveParameter(doc, p))
          .filter((p) => p.in === 'header' && p.name)
          .map((p) => p.name as string),
      });
    }
  }
  return operations.sort(bySpecificity);
}
