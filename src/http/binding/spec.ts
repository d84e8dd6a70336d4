import fs from 'node:fs';
import path from 'node:path';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { lifecycleOf, type Lifecycle } from './lifecycle';

/**
 * The spec everything reads: the single document that `make generate` bundles from `openapi/openapi.yaml` and the
 * files it references, committed like the generated types, so the server needs no bundler.
 */
export const BUNDLED_SPEC = path.join('openapi', 'generated', 'openapi.yaml');

// Found by walking up so the same code works from `src/` and from the compiled `dist/src/`.
function findSpec(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, BUNDLED_SPEC);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${BUNDLED_SPEC} not found above ${from}: run make generate`);
  }
}

let found: string | undefined;

/** The absolute path of the bundled spec, found on first use: `make generate` writes it, so it may not exist yet. */
export function specPath(): string {
  return (found ??= findSpec(__dirname));
}

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
  /**
   * The rate-limit policy that counts its requests: its own `x-rate-limit`, else the document's; undefined for
   * `x-rate-limit: none` (the probes) or when neither names one.
   */
  rateLimit: string | undefined;
  /** The header parameters it declares, spelled as in the spec. */
  headerParams: string[];
  /** How many parameters it declares, its path's own included: none means only the query string can be wrong. */
  parameterCount: number;
  /** Its deprecated shapes (the operation, query or header parameters), when it has any. */
  lifecycle: Lifecycle | undefined;
};

type RawParameter = { name?: string; in?: string; $ref?: string; deprecated?: boolean; [key: string]: unknown };

type RawOperation = {
  operationId?: string;
  deprecated?: boolean;
  security?: Record<string, string[]>[];
  tags?: string[];
  'x-required-role'?: string;
  'x-rate-limit'?: string;
  parameters?: RawParameter[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, unknown>;
};
export type OpenApiDocument = {
  openapi: string;
  security?: Record<string, string[]>[];
  /** The rate-limit policy of every operation that does not name its own. */
  'x-rate-limit'?: string;
  paths: Record<string, Partial<Record<HttpMethod, RawOperation>> & { parameters?: RawParameter[] }>;
  [key: string]: unknown;
};

// Parsed once per file and content, as tests build many apps in one process. js-yaml rather than yaml here: it reads
// the bundle in ~40 ms where yaml takes ~200 ms, a fifth of a server's start-up (yaml stays for editing the sources,
// where it keeps comments). The core schema is YAML 1.2's, as yaml's default: a date stays a string.
const parsed = new Map<string, { text: string; doc: OpenApiDocument }>();

/** Reads and parses the bundled spec (or another single-file spec); each call gets its own copy to change. */
export function loadSpec(file = specPath()): OpenApiDocument {
  const text = fs.readFileSync(file, 'utf8');
  let entry = parsed.get(file);
  if (entry?.text !== text)
    parsed.set(file, (entry = { text, doc: loadYaml(text, { schema: CORE_SCHEMA }) as OpenApiDocument }));
  return structuredClone(entry.doc);
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

/** The `x-rate-limit` value that exempts an operation from every rate-limit policy. */
export const NO_RATE_LIMIT = 'none';

function rateLimitOf(op: RawOperation, documentPolicy: unknown, where: string): string | undefined {
  const policy: unknown = op['x-rate-limit'] ?? documentPolicy;
  if (policy !== undefined && (typeof policy !== 'string' || policy === ''))
    throw new Error(`${where}: x-rate-limit must name a policy, or be "${NO_RATE_LIMIT}"`);
  return policy === NO_RATE_LIMIT ? undefined : policy;
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

// A `#/components/<kind>/<name>` reference, resolved one hop; anything else as it is.
function resolve<T extends { $ref?: string }>(doc: OpenApiDocument, kind: string, node: T): T {
  const prefix = `#/components/${kind}/`;
  if (!node.$ref?.startsWith(prefix)) return node;
  const components = (doc.components ?? {}) as Record<string, Record<string, T> | undefined>;
  return components[kind]?.[node.$ref.slice(prefix.length)] ?? node;
}
const resolveParameter = (doc: OpenApiDocument, parameter: RawParameter) => resolve(doc, 'parameters', parameter);

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
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => resolveParameter(doc, p));
      const responses = Object.fromEntries(
        Object.entries(op.responses ?? {}).map(([status, r]) => [status, resolve(doc, 'responses', r as object)]),
      );
      operations.push({
        operationId: op.operationId,
        method,
        path: specPath,
        expressPath: specPath.replace(/\{([^}]+)\}/g, ':$1'),
        access: accessOf(op, doc.security, where),
        tags: op.tags ?? [],
        requestContentTypes: Object.keys(op.requestBody?.content ?? {}),
        rateLimit: rateLimitOf(op, doc['x-rate-limit'], where),
        headerParams: (op.parameters ?? [])
          .map((p) => resolveParameter(doc, p))
          .filter((p) => p.in === 'header' && p.name)
          .map((p) => p.name as string),
        parameterCount: parameters.length,
        lifecycle: lifecycleOf(
          { ...op, operationId: op.operationId, tags: op.tags ?? [] },
          parameters,
          responses,
          where,
        ),
      });
    }
  }
  return operations.sort(bySpecificity);
}

/** Every response header the spec declares, on any operation or shared response, e.g. `ETag` and `Retry-After`. */
export function declaredResponseHeaders(doc: OpenApiDocument): string[] {
  const names = new Set<string>();
  const collect = (response: unknown) => {
    const headers = (response as { headers?: Record<string, unknown> } | undefined)?.headers;
    for (const name of Object.keys(headers ?? {})) names.add(name);
  };
  const components = (doc.components ?? {}) as { responses?: Record<string, unknown> };
  Object.values(components.responses ?? {}).forEach(collect);
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) Object.values(item[method]?.responses ?? {}).forEach(collect);
  }
  return [...names].sort();
}
