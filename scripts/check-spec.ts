import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { BUNDLED_SPEC, type OpenApiDocument } from '../src/http/binding/spec';
import { PIPELINE_HEADERS } from '../src/http/binding/operations';
import { undeclaredErrors } from './contract/declared-errors';

type Json = Record<string, unknown>;
type Example = { pointer: string; value: unknown };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'example', 'deprecated', '$comment']);
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const child = (pointer: string, ...segments: string[]) => `${pointer}/${segments.map(escape).join('/')}`;

function resolve(doc: Json, pointer: string): unknown {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (isObject(node) ? node[segment] : undefined), doc);
}

// Follows a local `$ref` (responses, request bodies, examples) to the object and the pointer where it lives.
function deref(doc: Json, node: unknown, pointer: string): { node: unknown; pointer: string } {
  let current = { node, pointer };
  for (let hops = 0; isObject(current.node) && typeof current.node.$ref === 'string' && hops < 10; hops++) {
    const target = current.node.$ref;
    current = { node: resolve(doc, target), pointer: target };
  }
  return current;
}

function examplesOf(doc: Json, mediaType: Json, pointer: string): Example[] {
  const found: Example[] = [];
  if ('example' in mediaType) found.push({ pointer: child(pointer, 'example'), value: mediaType.example });
  if (isObject(mediaType.examples)) {
    for (const [name, raw] of Object.entries(mediaType.examples)) {
      const example = deref(doc, raw, child(pointer, 'examples', name));
      if (isObject(example.node) && 'value' in example.node)
        found.push({ pointer: child(example.pointer, 'value'), value: example.node.value });
    }
  }
  return found;
}

/**
 * Checks that every request and response body of the spec has at least one example and that each example validates
 * against its schema (JSON Schema 2020-12 with formats), that no inline schema repeats a component schema, and that
 * every header component a handler may have to return is required.
 */
export function specProblems(doc: Json): { problems: string[]; examples: number } {
  const ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'spec');
  const problems: string[] = [];
  const seen = new Set<string>();
  let examples = 0;

  const checkBody = (body: unknown, bodyPointer: string, what: string) => {
    const resolved = deref(doc, body, bodyPointer);
    if (!isObject(resolved.node) || !isObject(resolved.node.content)) return;
    for (const [type, mediaType] of Object.entries(resolved.node.content)) {
      const pointer = child(resolved.pointer, 'content', type);
      if (seen.has(pointer) || !isObject(mediaType)) continue;
      seen.add(pointer);
      const found = examplesOf(doc, mediaType, pointer);
      if (found.length === 0) problems.push(`${pointer}: the ${what} (${type}) has no example`);
      if (!isObject(mediaType.schema)) continue;
      const validate = ajv.compile({ $ref: `spec${child(pointer, 'schema')}` });
      for (const example of found) {
        examples += 1;
        if (!validate(example.value)) {
          const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
          problems.push(`${example.pointer}: the example does not match its schema: ${errors}`);
        }
      }
    }
  };

  for (const [specPath, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const opPointer = child('#/paths', specPath, method);
      if (op.requestBody) checkBody(op.requestBody, child(opPointer, 'requestBody'), 'request body');
      for (const [status, response] of Object.entries(isObject(op.responses) ? op.responses : {})) {
        checkBody(response, child(opPointer, 'responses', status), `${status} response`);
      }
    }
  }
  problems.push(...duplicatedSchemas(doc), ...optionalHeaderComponents(doc));
  return { problems, examples };
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .filter((k) => !ANNOTATIONS.has(k))
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );

// Only structured schemas count: two scalars with the same bounds (a page size, a quantity) are a coincidence, not a copy.
const isStructured = (schema: Json) => ['properties', 'items', 'allOf', 'oneOf', 'anyOf'].some((k) => k in schema);

// An inline structured schema equal to a component schema (annotations aside) should be a `$ref` to it.
function duplicatedSchemas(doc: Json): string[] {
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const byShape = new Map<string, string>();
  for (const [name, schema] of Object.entries(components)) {
    if (isObject(schema) && isStructured(schema)) byShape.set(canonical(schema), `#/components/schemas/${name}`);
  }
  const problems: string[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, child(pointer, String(i))));
    if (!isObject(node)) return;
    const component = byShape.get(canonical(node));
    if (component && component !== pointer) problems.push(`${pointer}: repeats ${component} inline; use a $ref`);
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'example' && key !== 'examples') walk(value, child(pointer, key));
    }
  };
  walk(doc.paths, '#/paths');
  walk(doc.components, '#/components');
  return problems;
}

/**
 * openapi-typescript types a response header given as a `$ref` as always present, whatever the component says, and a
 * handler must then return it (src/http/binding/operations.ts). So a header component must be `required: true`, true
 * wherever it is referenced; a header sent only sometimes is declared inline. The pipeline's own headers are exempt:
 * handlers never return them.
 */
function optionalHeaderComponents(doc: Json): string[] {
  const headers = isObject(doc.components) && isObject(doc.components.headers) ? doc.components.headers : {};
  const exempt = new Set<string>(PIPELINE_HEADERS);
  return Object.entries(headers)
    .filter(([name, header]) => !exempt.has(name) && !(isObject(header) && header.required === true))
    .map(
      ([name]) =>
        `${child('#/components/headers', name)}: a header component must be required: true (a $ref is typed as ` +
        'always sent); declare a header that is sent only sometimes inline, without required',
    );
}

function main(): void {
  const file = path.resolve(process.argv[2] ?? BUNDLED_SPEC);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as Json;
  const { problems, examples } = specProblems(doc);
  problems.push(...undeclaredErrors(doc as unknown as OpenApiDocument).map((problem) => `: ${problem}`));
  if (problems.length) {
    for (const problem of problems) console.error(`${path.relative(process.cwd(), file)}${problem}`);
    process.exit(1);
  }
  console.log(
    `${examples} body examples match their schemas; no inline schema repeats a component; every status and ` +
      'error_code an operation can answer is declared; every header component a handler returns is required',
  );
}

if (require.main === module) main();
