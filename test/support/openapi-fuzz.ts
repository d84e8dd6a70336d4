import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { listOperations, loadSpec, type Access, type HttpMethod } from '../../src/http/binding/spec';

/** A JSON Schema node of the dereferenced spec. */
export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  [keyword: string]: unknown;
};

/** One request parameter of an operation. */
export type Param = { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema };

/** What the spec documents for one response status. */
export type ResponseSpec = { content: Record<string, Schema | undefined>; headers: string[] };

/** An operation of the spec with its parameters, body and responses resolved, ready to generate requests for. */
export type FuzzOperation = {
  operationId: string;
  method: HttpMethod;
  path: string;
  access: Access;
  params: Param[];
  body?: { required: boolean; media: { type: string; schema: Schema }[] };
  responses: Record<string, ResponseSpec>;
};

type RawParam = { name: string; in: string; required?: boolean; schema?: Schema };
type RawOperation = {
  parameters?: RawParam[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }>; headers?: Record<string, unknown> }>;
};

/** Replaces every local `$ref` by the node it points at (siblings of `$ref` win), failing on a cycle. */
export function dereference<T>(doc: T): T {
  const resolved = new Map<string, unknown>();
  const inProgress = new Set<string>();
  const pointer = (ref: string): unknown =>
    ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], doc);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const { $ref, ...rest } = node as Record<string, unknown>;
    const entries = Object.entries(rest).map(([key, value]) => [key, walk(value)] as const);
    if (typeof $ref !== 'string') return Object.fromEntries(entries);
    if (inProgress.has($ref)) throw new Error(`cyclic $ref ${$ref}`);
    if (!resolved.has($ref)) {
      inProgress.add($ref);
      resolved.set($ref, walk(pointer($ref)));
      inProgress.delete($ref);
    }
    const target = resolved.get($ref);
    return entries.length ? { ...(target as object), ...Object.fromEntries(entries) } : target;
  };
  return walk(doc) as T;
}

/** The dereferenced spec document, as served. */
export const SPEC = dereference(loadSpec()) as unknown as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
};

/** Reads every operation of `openapi/openapi.yaml`, so that new operations are fuzzed without editing any test. */
export function loadFuzzOperations(): FuzzOperation[] {
  return listOperations(loadSpec()).map((op) => {
    const item = SPEC.paths[op.path] as { parameters?: RawParam[] } & Record<string, RawOperation>;
    const raw = item[op.method] as RawOperation;
    // Operation-level parameters override path-level ones of the same name and location.
    const byKey = new Map<string, Param>();
    for (const p of [...(item.parameters ?? []), ...(raw.parameters ?? [])]) {
      if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') continue;
      byKey.set(`${p.in}:${p.name}`, { name: p.name, in: p.in, required: p.required ?? false, schema: p.schema ?? {} });
    }
    const content = raw.requestBody?.content ?? {};
    const media = Object.entries(content).map(([type, value]) => ({ type, schema: value.schema ?? {} }));
    const responses: Record<string, ResponseSpec> = {};
    for (const [status, response] of Object.entries(raw.responses ?? {})) {
      responses[status] = {
        content: Object.fromEntries(Object.entries(response.content ?? {}).map(([type, v]) => [type, v.schema])),
        headers: Object.keys(response.headers ?? {}),
      };
    }
    return {
      operationId: op.operationId,
      method: op.method,
      path: op.path,
      access: op.access,
      params: [...byKey.values()],
      body: media.length ? { required: raw.requestBody?.required ?? false, media } : undefined,
      responses,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Valid values

/** How values are generated: `hints` maps property and parameter names to values to use now and then. */
export type GenOptions = { hints?: Record<string, fc.Arbitrary<unknown>> };

const typesOf = (s: Schema): string[] => {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === 'string') return [s.type];
  if (s.properties || s.additionalProperties !== undefined) return ['object'];
  if (s.items) return ['array'];
  return [];
};

/** Folds `allOf` into one schema (the spec only composes objects with it). */
function flatten(schema: Schema): Schema {
  if (!schema.allOf) return schema;
  const { allOf, ...rest } = schema;
  return allOf.map(flatten).reduce<Schema>(
    (merged, part) => ({
      ...merged,
      ...part,
      properties: { ...merged.properties, ...part.properties },
      required: [...(merged.required ?? []), ...(part.required ?? [])],
    }),
    rest,
  );
}

const EMAIL_LOCAL = fc.stringMatching(/^[a-z0-9]([a-z0-9._+-]{0,14}[a-z0-9])?$/);
const EMAIL_DOMAIN = fc.stringMatching(/^[a-z0-9]{1,12}\.(com|org|io|example)$/);
const emailArb = fc
  .tuple(EMAIL_LOCAL, EMAIL_DOMAIN, fc.boolean())
  .map(([local, domain, shout]) => (shout ? `${local}@${domain}`.toUpperCase() : `${local}@${domain}`))
  .filter((email) => !email.includes('..'));

const dateTimeArb = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

// Mostly printable ASCII; sometimes any code point, or a mix of the characters that storage layers and LIKE
// patterns tend to choke on (NUL, control characters, quotes, backslashes, wildcards, astral code points).
const TRICKY = fc.constantFrom(
  'a',
  'Z',
  ' ',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  '😀',
  '%',
  '_',
  "'",
  '"',
  '\\',
  ';',
  '\u2028',
);
// Building a string arbitrary parses its pattern and sizes its slices, which cost more than drawing a value from it:
// each shape is built once and shared by every request that needs it.
const built = new Map<string, fc.Arbitrary<string>>();
const once = (key: string, build: () => fc.Arbitrary<string>): fc.Arbitrary<string> => {
  let arb = built.get(key);
  if (!arb) built.set(key, (arb = build()));
  return arb;
};

const textArb = (minLength: number, maxLength: number) =>
  once(`text ${minLength} ${maxLength}`, () =>
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
      { weight: 1, arbitrary: fc.string({ unit: TRICKY, minLength, maxLength }) },
    ),
  );

// Header values must be visible ASCII with no surrounding blanks, or the client refuses to send them.
const headerTextArb = (minLength: number, maxLength: number) =>
  once(`header ${minLength} ${maxLength}`, () =>
    fc.stringMatching(/^[!-~]([ !-~]*[!-~])?$/).filter((s) => s.length >= minLength && s.length <= maxLength),
  );

function stringArb(s: Schema, opts: GenOptions & { header?: boolean }): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? min + 64;
  const fits = (v: string) => [...v].length >= min && [...v].length <= max;
  if (s.format === 'email') return emailArb.filter(fits);
  if (s.format === 'date-time') return dateTimeArb;
  if (s.pattern) {
    const pattern = s.pattern;
    return once(`pattern ${min} ${max} ${pattern}`, () => fc.stringMatching(new RegExp(pattern)).filter(fits));
  }
  if (opts.header) return headerTextArb(Math.max(min, 1), Math.min(max, min + 40));
  return textArb(min, Math.min(max, min + 40)).filter(fits);
}

function integerArb(s: Schema): fc.Arbitrary<number> {
  const min = s.minimum ?? -(2 ** 31);
  const max = s.maximum ?? 2 ** 31 - 1;
  // Small values hit real rows and short pages; the bounds and the whole range come up too.
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 50) }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
}

/** Generates values that satisfy the schema (property names found in `hints` sometimes get the hinted value). */
export function valueArb(schema: Schema, opts: GenOptions = {}, name?: string): fc.Arbitrary<unknown> {
  const base = schemaArb(schema, opts);
  const hint = name === undefined ? undefined : opts.hints?.[name];
  return hint ? fc.oneof({ weight: 2, arbitrary: hint }, { weight: 1, arbitrary: base }) : base;
}

function schemaArb(input: Schema, opts: GenOptions): fc.Arbitrary<unknown> {
  const s = flatten(input);
  if ('const' in s) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return fc.oneof(...alternatives.map((alt) => schemaArb(alt, opts)));
  const types = typesOf(s);
  if (types.length > 1) {
    return fc.oneof(
      ...types.map((type) => ({ weight: type === 'null' ? 1 : 3, arbitrary: schemaArb({ ...s, type }, opts) })),
    );
  }
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerArb(s);
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case 'array':
      return fc.array(schemaArb(s.items ?? {}, opts), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, (s.minItems ?? 0) + 4),
      });
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const record = fc.record(Object.fromEntries(props.map(([key, ps]) => [key, valueArb(ps, opts, key)])), {
        requiredKeys: s.required ?? [],
      }) as fc.Arbitrary<Record<string, unknown>>;
      return record.filter((value) => Object.keys(value).length >= (s.minProperties ?? 0));
    }
    default:
      return stringArb(s, opts);
  }
}

let exampleCounter = 0;
const exampleString = (s: Schema): string => {
  exampleCounter += 1;
  const tag = `ex${Date.now().toString(36)}${exampleCounter}`;
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Math.max(min, 64);
  if (s.format === 'email') return `${tag}@example.com`;
  if (s.format === 'date-time') return new Date().toISOString();
  const fits = (v: string) => v.length >= min && v.length <= max && (!s.pattern || new RegExp(s.pattern, 'u').test(v));
  const candidate = [tag, 'Example text', 'EUR', 'created_at', 'name', 'x'.repeat(Math.max(min, 1))].find(fits);
  if (candidate !== undefined) return candidate;
  return fc.sample(stringArb(s, {}), { numRuns: 1, seed: exampleCounter })[0] ?? '';
};

/**
 * A valid value with every property present (hinted properties take their hint), for tests that vary one field at
 * a time; emails and free-form strings are unique per call.
 */
export function exampleValue(input: Schema, hints: GenOptions['hints'] = {}, name?: string): unknown {
  const hint = name === undefined ? undefined : hints[name];
  if (hint) return fc.sample(hint, { numRuns: 1, seed: 1 })[0];
  const s = flatten(input);
  if ('const' in s) return s.const;
  if (s.enum) return s.enum[0];
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives?.[0]) return exampleValue(alternatives[0], hints);
  const type = typesOf(s).find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return true;
    case 'integer':
    case 'number':
      return Math.min(Math.max(s.minimum ?? 1, 1), s.maximum ?? Number.MAX_SAFE_INTEGER);
    case 'array':
      return Array.from({ length: Math.max(s.minItems ?? 1, 1) }, () => exampleValue(s.items ?? {}, hints));
    case 'object':
      return Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([key, ps]) => [key, exampleValue(ps, hints, key)]),
      );
    default:
      return exampleString(s);
  }
}

/** A scalar position inside a value, and the schema that governs it. */
export type Leaf = { path: (string | number)[]; schema: Schema };

/** Every scalar (string, number, boolean or null) position of a value, with its schema. */
export function leavesOf(input: Schema, value: unknown, path: (string | number)[] = []): Leaf[] {
  const s = flatten(input);
  if (Array.isArray(value)) return value.flatMap((item, i) => leavesOf(s.items ?? {}, item, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => leavesOf(s.properties?.[key] ?? {}, item, [...path, key]));
  }
  return [{ path, schema: s }];
}

/** A copy of the value with the position at `path` replaced. */
export function setAt(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? setAt(item, rest, leaf) : item));
  const obj = value as Record<string, unknown>;
  return { ...obj, [String(head)]: setAt(obj[String(head)], rest, leaf) };
}

/** Whether a schema allows values of the given JSON type. */
export const allowsType = (schema: Schema, type: string): boolean => typesOf(flatten(schema)).includes(type);

// ---------------------------------------------------------------------------------------------------------------
// Values that break exactly one constraint

/** A value that breaks one constraint, and which one. */
export type Mutant = { value: unknown; why: string };

const mutant = (value: unknown, why: string): fc.Arbitrary<Mutant> => fc.constant({ value, why });

// Values of other JSON types than a position allows, to send where it expects the given type.
const WRONG_TYPE_VALUES: Record<string, unknown[]> = {
  string: [42, true, ['x'], { x: 1 }],
  integer: ['12', 1.5, true, [1], { n: 1 }],
  number: ['12', true, [1]],
  boolean: ['true', 1, [true]],
  object: [[], 'object', 7],
  array: [{}, 'array', 7],
};
const STRINGLY_WRONG_TYPE: Record<string, string[]> = {
  integer: ['abc', '1.5', ''],
  number: ['abc', ''],
  boolean: ['maybe', '2', ''],
};

const hasJsonType = (value: unknown, type: string): boolean => {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
};

function patternBreakers(s: Schema): string[] {
  if (!s.pattern) return [];
  const re = new RegExp(s.pattern, 'u');
  const min = Math.max(s.minLength ?? 0, 1);
  const max = s.maxLength ?? min + 10;
  const candidates = ['!', ' ', '%_', 'a\u0001b', '\u007f', 'Ä', '-', ',', 'a b', 'UPPER', '0', '--a', 'a--'];
  return candidates.map((c) => c.repeat(Math.ceil(min / c.length))).filter((c) => c.length <= max && !re.test(c));
}

/** Where a value travels: path, query and header values are text, and a path or header value has a restricted alphabet. */
type Position = 'path' | 'query' | 'header' | 'body' | 'form';
const HEADER_SAFE = /^[!-~]([ !-~]*[!-~])?$/;
const fitsPosition = (position: Position, value: unknown): boolean => {
  if (position === 'path') return String(value) !== '' && !/[/?#]/.test(String(value));
  if (position === 'header') return HEADER_SAFE.test(String(value));
  return true;
};

/** Mutations of a scalar position that do not depend on its current value: type, range, length, enum, format. */
function scalarMutants(input: Schema, position: Position): fc.Arbitrary<Mutant>[] {
  const s = flatten(input);
  const types = typesOf(s);
  const stringly = position !== 'body';
  const out: fc.Arbitrary<Mutant>[] = [];
  const add = (value: unknown, why: string) => {
    if (fitsPosition(position, value)) out.push(mutant(value, why));
  };
  if (stringly) {
    for (const type of types)
      for (const v of STRINGLY_WRONG_TYPE[type] ?? []) add(v, `not a ${type}: ${JSON.stringify(v)}`);
  } else if (types.length) {
    const wrong = types
      .flatMap((type) => WRONG_TYPE_VALUES[type] ?? [])
      .filter((v) => !types.some((t) => hasJsonType(v, t)));
    for (const v of wrong) add(v, `not of type ${types.join(' or ')}: ${JSON.stringify(v)}`);
    if (!types.includes('null')) add(null, `not of type ${types.join(' or ')}: null`);
  }
  const show = (v: number) => (stringly ? String(v) : v);
  if (types.includes('integer') || types.includes('number')) {
    if (s.minimum !== undefined) add(show(s.minimum - 1), `below minimum ${s.minimum}`);
    if (s.minimum !== undefined && s.minimum >= 0) add(show(-1), `negative`);
    if (s.maximum !== undefined) {
      add(show(s.maximum + 1), `above maximum ${s.maximum}`);
      add(stringly ? '9223372036854775808' : 2 ** 63, 'way above maximum (2^63)');
      add(stringly ? '9007199254740993' : 2 ** 53, 'above maximum (2^53)');
      if (stringly) add('9'.repeat(400), 'a numeral longer than a double holds');
    }
    if (types.includes('integer')) add(stringly ? '1.5' : 1.5, 'not an integer');
  }
  if (types.includes('string') || (stringly && types.length === 0)) {
    const filler = position === 'header' ? fc.constantFrom('x', '9') : fc.constantFrom('x', 'é', '😀', '\u0000');
    if (s.maxLength !== undefined) {
      const max = s.maxLength;
      out.push(filler.map((c) => ({ value: c.repeat(max + 1), why: `longer than maxLength ${max}` })));
    }
    // An empty header is the same as an absent one, which an optional header may be.
    if ((s.minLength ?? 0) > 0 && !(position === 'header' && s.minLength === 1)) {
      add('x'.repeat((s.minLength ?? 1) - 1), `shorter than minLength ${s.minLength}`);
    }
    for (const breaker of patternBreakers(s)) add(breaker, `does not match ${s.pattern}`);
    if (s.format === 'email') {
      for (const v of ['not-an-email', '@example.com', 'a b@example.com', 'a@@example.com']) add(v, 'not an email');
    }
    if (s.format === 'date-time') add('2026-13-45T25:61:00Z', 'not a date-time');
  }
  if (s.enum) add('not-in-enum', `not one of ${JSON.stringify(s.enum)}`);
  if ('const' in s) add(`not-${String(s.const)}`, `not the constant ${JSON.stringify(s.const)}`);
  return out;
}

/** Every way to make `value` (valid for `schema`) break exactly one constraint, at this position or below it. */
export function mutantArbs(input: Schema, value: unknown, position: 'body' | 'form' = 'body'): fc.Arbitrary<Mutant>[] {
  const s = flatten(input);
  const out = scalarMutants(s, position);
  const types = typesOf(s);
  if (types.includes('object') && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of s.required ?? []) {
      if (!(key in obj)) continue;
      const rest = Object.fromEntries(Object.entries(obj).filter(([name]) => name !== key));
      out.push(mutant(rest, `missing required /${key}`));
    }
    if (s.additionalProperties === false) {
      out.push(
        fc.constantFrom('unexpected_field', 'is_superuser', 'id', 'price', '__proto__', 'constructor').map((key) => ({
          value: { ...obj, [key]: key === '__proto__' ? { polluted: true } : 1 },
          why: `extra /${key}`,
        })),
      );
    }
    if ((s.minProperties ?? 0) > 0 && !(s.required ?? []).length) out.push(mutant({}, 'no properties'));
    for (const [key, child] of Object.entries(obj)) {
      const ps = s.properties?.[key];
      if (!ps) continue;
      for (const arb of mutantArbs(ps, child, position)) {
        out.push(arb.map((m) => ({ value: { ...obj, [key]: m.value }, why: `/${key}: ${m.why}` })));
      }
    }
  }
  if (types.includes('array') && Array.isArray(value)) {
    if (s.maxItems !== undefined && value.length > 0) {
      const max = s.maxItems;
      out.push(
        mutant(
          Array.from({ length: max + 1 }, (_, i) => value[i % value.length]),
          `more than ${max} items`,
        ),
      );
    }
    if ((s.minItems ?? 0) > 0)
      out.push(mutant(value.slice(0, (s.minItems ?? 1) - 1), `fewer than ${s.minItems} items`));
    if (value.length > 0 && s.items) {
      for (const arb of mutantArbs(s.items, value[0], position)) {
        out.push(arb.map((m) => ({ value: [m.value, ...value.slice(1)], why: `/0: ${m.why}` })));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** Who sends a request. */
export type Role = 'anonymous' | 'user' | 'superuser';

/**
 * A generated request, before placeholders are resolved. Strings of the form «name» are placeholders the test
 * replaces with real values per case (a fresh row's id, the caller's username), so requests can hit real rows.
 */
export type RequestPlan = {
  role: Role;
  path: Record<string, string>;
  query: [string, string][];
  headers: Record<string, string>;
  body?: { contentType: string; value: unknown };
  /** How the body is sent: compressed with a `Content-Encoding` the server accepts, corrupted, or unknown. */
  encoding?: BodyEncoding;
  /** What the request breaks, for requests meant to be refused. */
  mutation?: string;
};

/** The codings the server decodes, and how a request may spoil one. */
export const BODY_CODINGS = ['gzip', 'deflate', 'br'] as const;
export type BodyEncoding = { coding: string; spoil?: 'truncated' | 'not-compressed' };

/** Path placeholders: a row owned by the caller, or a row of another user. */
export const OWN_ROW = '«own»';
export const OTHER_ROW = '«other»';

const roleArb = (access: Access): fc.Arbitrary<Role> => {
  switch (access) {
    case 'superuser':
      return fc.constant('superuser');
    case 'user':
      return fc.constantFrom<Role>('user', 'user', 'superuser');
    case 'optional':
      return fc.constantFrom<Role>('anonymous', 'user', 'superuser');
    default:
      return fc.constant('anonymous');
  }
};

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function paramArb(p: Param, opts: GenOptions): fc.Arbitrary<string> {
  if (p.in === 'path') {
    const random = valueArb(p.schema).map(asText);
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(OWN_ROW, OTHER_ROW) }, { weight: 1, arbitrary: random });
  }
  if (p.in === 'header') return stringArb(flatten(p.schema), { header: true });
  return valueArb(p.schema, opts, p.name).map(asText);
}

const isForm = (contentType: string) => contentType === 'application/x-www-form-urlencoded';

/** Generates requests that satisfy every constraint of the operation. */
export function validRequestArb(op: FuzzOperation, opts: GenOptions = {}): fc.Arbitrary<RequestPlan> {
  const pathArbs = Object.fromEntries(op.params.filter((p) => p.in === 'path').map((p) => [p.name, paramArb(p, opts)]));
  const optional = (params: Param[]) =>
    fc.record(Object.fromEntries(params.map((p) => [p.name, paramArb(p, opts)])), {
      requiredKeys: params.filter((p) => p.required).map((p) => p.name),
    }) as fc.Arbitrary<Record<string, string>>;
  const body = op.body
    ? fc.oneof(
        ...op.body.media.map((media) =>
          valueArb(media.schema, opts).map((value) => ({ contentType: media.type, value })),
        ),
      )
    : fc.constant(undefined);
  // One body in four is compressed: a valid compressed body must be answered exactly like the plain one.
  const encoding = op.body
    ? fc.option(
        fc.constantFrom(...BODY_CODINGS).map((coding): BodyEncoding => ({ coding })),
        { freq: 4, nil: undefined },
      )
    : fc.constant(undefined);
  return fc.record({
    role: roleArb(op.access),
    path: fc.record(pathArbs) as fc.Arbitrary<Record<string, string>>,
    query: optional(op.params.filter((p) => p.in === 'query')).map((q) => Object.entries(q)),
    headers: optional(op.params.filter((p) => p.in === 'header')),
    body,
    encoding,
  }) as fc.Arbitrary<RequestPlan>;
}

/** Whether a request of the operation has anything to break: a parameter, a body, or a query it refuses (a 422). */
export const canBreak = (op: FuzzOperation): boolean => op.params.length > 0 || !!op.body || !!op.responses['422'];

/** Generates requests that break exactly one constraint: of a path, query or header parameter, or of the body. */
export function invalidRequestArb(op: FuzzOperation, opts: GenOptions = {}): fc.Arbitrary<RequestPlan> {
  return validRequestArb(op, opts).chain((plan) => {
    const options: fc.Arbitrary<RequestPlan>[] = [];
    const withMutation = (arbs: fc.Arbitrary<Mutant>[], apply: (m: Mutant) => RequestPlan, where: string) => {
      for (const arb of arbs) options.push(arb.map((m) => ({ ...apply(m), mutation: `${where}: ${m.why}` })));
    };
    for (const p of op.params) {
      const arbs = scalarMutants(p.schema, p.in);
      if (p.in === 'path') {
        const at = (m: Mutant) => ({ ...plan, path: { ...plan.path, [p.name]: String(m.value) } });
        withMutation(arbs, at, `path ${p.name}`);
      } else if (p.in === 'query') {
        const others = plan.query.filter(([name]) => name !== p.name);
        withMutation(arbs, (m) => ({ ...plan, query: [...others, [p.name, String(m.value)]] }), `query ${p.name}`);
        const present = plan.query.find(([name]) => name === p.name);
        const repeated = {
          ...plan,
          query: [...plan.query, present ?? ['', '']],
          mutation: `query ${p.name}: repeated`,
        };
        if (present) options.push(fc.constant(repeated));
        if (p.required) options.push(fc.constant({ ...plan, query: others, mutation: `query ${p.name}: missing` }));
      } else {
        const at = (m: Mutant) => ({ ...plan, headers: { ...plan.headers, [p.name]: String(m.value) } });
        withMutation(arbs, at, `header ${p.name}`);
      }
    }
    // Only where the operation documents a 422: elsewhere the refusal would be an undocumented status (reported).
    if (op.responses['422']) {
      const query: [string, string][] = [...plan.query, ['unexpected_param', '1']];
      options.push(fc.constant({ ...plan, query, mutation: 'query: unknown parameter' }));
    }
    const body = plan.body;
    const media = op.body?.media.find((m) => m.type === body?.contentType);
    if (body && media) {
      const mutants = mutantArbs(media.schema, body.value, isForm(media.type) ? 'form' : 'body');
      withMutation(mutants, (m) => ({ ...plan, body: { ...body, value: m.value } }), 'body');
      options.push(
        fc.constant({ ...plan, body: { contentType: 'text/plain', value: body.value }, mutation: 'body: text/plain' }),
      );
      if (op.body?.required) options.push(fc.constant({ ...plan, body: undefined, mutation: 'body: missing' }));
      // A body the declared coding cannot decode, and a coding the server does not know.
      const spoiled = fc.record({
        coding: fc.constantFrom(...BODY_CODINGS),
        spoil: fc.constantFrom('truncated' as const, 'not-compressed' as const),
      });
      options.push(
        spoiled.map((encoding) => ({ ...plan, encoding, mutation: `body: ${encoding.spoil} ${encoding.coding}` })),
      );
      options.push(fc.constant({ ...plan, encoding: { coding: 'x-unknown' }, mutation: 'body: unknown coding' }));
    }
    return fc.oneof(...options);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Responses

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new WeakMap<object, ValidateFunction>();
const validatorOf = (schema: Schema): ValidateFunction => {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
};

/** Validates a value against a schema of the spec; the errors as text, or [] when it is valid. */
export function schemaErrors(schema: Schema, value: unknown): string[] {
  const validate = validatorOf(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/** A response as received. */
export type Received = { status: number; headers: Headers; text: string };

/** Everything that makes a response break the contract of its operation; [] when it keeps it. */
export function contractProblems(op: FuzzOperation, res: Received, expectRefusal: boolean): string[] {
  const problems: string[] = [];
  const key = String(res.status);
  const documented = op.responses[key] ?? op.responses[`${key[0]}XX`] ?? op.responses.default;
  if (!documented) problems.push(`status ${res.status} is not documented for ${op.operationId}`);
  if (res.status >= 500) problems.push(`server error ${res.status}`);
  if (expectRefusal && (res.status < 400 || res.status >= 500))
    problems.push(`a broken request answered ${res.status}`);
  if (!res.headers.get('x-request-id')) problems.push('no X-Request-Id header');
  if (res.status === 401 && !res.headers.get('www-authenticate')) problems.push('401 without WWW-Authenticate');
  if (documented?.headers.includes('Location') && res.status === 201 && !res.headers.get('location')) {
    problems.push('201 without Location');
  }
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (res.status === 204 || res.status === 304) {
    if (res.text.length) problems.push(`${res.status} with a body`);
    return problems;
  }
  let body: unknown = res.text;
  if (contentType === 'application/json') {
    try {
      body = JSON.parse(res.text);
    } catch {
      return [...problems, 'the body is not JSON'];
    }
  }
  if (res.status >= 400)
    problems.push(
      ...schemaErrors(SPEC.components.schemas.ErrorResponse ?? {}, body).map((e) => `not an ErrorResponse: ${e}`),
    );
  if (documented) {
    if (!(contentType in documented.content)) {
      problems.push(`content type "${contentType}" is not documented for ${res.status}`);
    } else {
      const schema = documented.content[contentType];
      if (schema) problems.push(...schemaErrors(schema, body).map((e) => `body breaks the ${res.status} schema: ${e}`));
    }
  }
  return problems;
}
