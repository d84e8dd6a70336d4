import type { OutgoingHttpHeaders } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument, SpecOperation } from './spec';

/** One way a response breaks the spec; `schemaPath` names the rule, for de-duplicating reports of it. */
export type Violation = { schemaPath: string; instancePath: string; message: string };

/** A response as it went out: its status, headers and body bytes (none for HEAD and bodiless statuses). */
export type SentResponse = { status: number; headers: OutgoingHttpHeaders; body: Buffer | undefined; head: boolean };

type Json = Record<string, unknown>;
type HeaderRule = { name: string; required: boolean; pointer: string; validate: ValidateFunction | undefined };
type ResponseRule =
  | { declared: false; pointer: string }
  | {
      declared: true;
      pointer: string;
      headers: HeaderRule[];
      /** Media type (without parameters) to the body's validator; none when it declares no content. */
      content: Map<string, ValidateFunction | undefined>;
    };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const child = (pointer: string, ...segments: string[]) => `${pointer}/${segments.map(escape).join('/')}`;
const at = (doc: Json, pointer: string): unknown =>
  pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (isObject(node) ? node[segment] : undefined), doc);

// Follows local `$ref`s (responses, headers) to the object and the pointer where it lives.
function deref(doc: Json, pointer: string): { node: unknown; pointer: string } {
  let current = { node: at(doc, pointer), pointer };
  for (let hops = 0; isObject(current.node) && typeof current.node.$ref === 'string' && hops < 10; hops++) {
    const target = current.node.$ref;
    current = { node: at(doc, target), pointer: target };
  }
  return current;
}

const NO_BODY = new Set([204, 304]);
// Ajv names a rule by where it lives in the document it was given as `spec`: `spec#/components/schemas/...`.
const inSpec = (schemaPath: string) => schemaPath.replace(/^spec#/, '#');

/**
 * Checks sent responses against the spec: the status must be declared for the operation, every required declared
 * header present and every declared header's value valid, and the body valid against the schema of its media
 * type. Each operation and status is compiled on its first check (Ajv, JSON Schema 2020-12 with formats) and kept.
 */
export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true });
  private readonly rules = new Map<string, ResponseRule>();

  constructor(private readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc, 'spec');
  }

  /** Compiles the rules of every status the operation declares, so that its first checks find them ready. */
  prepare(op: SpecOperation): void {
    const responses = at(this.doc as unknown as Json, child('#/paths', op.path, op.method, 'responses'));
    for (const status of Object.keys(isObject(responses) ? responses : {}))
      if (/^\d{3}$/.test(status)) this.ruleFor(op, Number(status));
  }

  check(op: SpecOperation, sent: SentResponse): Violation[] {
    const rule = this.ruleFor(op, sent.status);
    if (!rule.declared)
      return [{ schemaPath: rule.pointer, instancePath: '', message: `status ${sent.status} is not declared` }];
    const violations: Violation[] = [];
    for (const header of rule.headers) {
      const value = sent.headers[header.name];
      if (value === undefined) {
        if (header.required)
          violations.push({
            schemaPath: `${header.pointer}/required`,
            instancePath: '',
            message: `required header ${header.name} is missing`,
          });
      } else if (header.validate && !valid(header.validate, String(value))) {
        for (const error of header.validate.errors ?? [])
          violations.push({
            schemaPath: inSpec(error.schemaPath),
            instancePath: '',
            message: `header ${header.name} ${error.message ?? ''}`,
          });
      }
    }
    if (sent.head || NO_BODY.has(sent.status)) return violations;
    const body = sent.body?.length ? sent.body : undefined;
    const type = String(sent.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    if (rule.content.size === 0) {
      if (body)
        violations.push({ schemaPath: `${rule.pointer}/content`, instancePath: '', message: 'no body is declared' });
      return violations;
    }
    if (!body) {
      violations.push({ schemaPath: `${rule.pointer}/content`, instancePath: '', message: 'the body is missing' });
      return violations;
    }
    if (!type || !rule.content.has(type)) {
      violations.push({
        schemaPath: `${rule.pointer}/content`,
        instancePath: '',
        message: `media type ${type || '(none)'} is not declared`,
      });
      return violations;
    }
    const validate = rule.content.get(type);
    if (!validate || !(type === 'application/json' || type.endsWith('+json'))) return violations;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      violations.push({ schemaPath: `${rule.pointer}/content`, instancePath: '', message: 'the body is not JSON' });
      return violations;
    }
    if (!validate(value)) {
      for (const error of validate.errors ?? [])
        violations.push({
          schemaPath: inSpec(error.schemaPath),
          instancePath: error.instancePath || '/',
          message: error.message ?? 'is invalid',
        });
    }
    return violations;
  }

  private ruleFor(op: SpecOperation, status: number): ResponseRule {
    const key = `${op.operationId} ${status}`;
    let rule = this.rules.get(key);
    if (!rule) this.rules.set(key, (rule = this.compile(op, status)));
    return rule;
  }

  private compile(op: SpecOperation, status: number): ResponseRule {
    const doc = this.doc as unknown as Json;
    const responses = child('#/paths', op.path, op.method, 'responses');
    const declared = at(doc, responses);
    const code = String(status);
    const found = [code, `${code[0] ?? ''}XX`, 'default'].find((s) => isObject(declared) && s in declared);
    if (!found) return { declared: false, pointer: responses };
    const response = deref(doc, child(responses, found));
    const node = isObject(response.node) ? response.node : {};
    const headers: HeaderRule[] = [];
    for (const name of Object.keys(isObject(node.headers) ? node.headers : {})) {
      // OpenAPI: a Content-Type among the headers is ignored; the content map decides it.
      if (name.toLowerCase() === 'content-type') continue;
      const header = deref(doc, child(response.pointer, 'headers', name));
      const spec = isObject(header.node) ? header.node : {};
      headers.push({
        name: name.toLowerCase(),
        required: spec.required === true,
        pointer: header.pointer,
        validate: isObject(spec.schema)
          ? this.ajv.compile({ $ref: `spec${child(header.pointer, 'schema')}` })
          : undefined,
      });
    }
    const content = new Map<string, ValidateFunction | undefined>();
    for (const [type, media] of Object.entries(isObject(node.content) ? node.content : {})) {
      const schema = isObject(media) && isObject(media.schema);
      const pointer = child(response.pointer, 'content', type, 'schema');
      content.set(type.toLowerCase(), schema ? this.ajv.compile({ $ref: `spec${pointer}` }) : undefined);
    }
    return { declared: true, pointer: response.pointer, headers, content };
  }
}

// Header values are strings on the wire; a numeral may also stand for the number a schema of type integer expects.
const valid = (validate: ValidateFunction, text: string): boolean =>
  validate(text) || (/^-?\d+(\.\d+)?$/.test(text) && validate(Number(text)));

/** What a sampler needs from the app: where violations are reported, and the clock that spaces the reports. */
export type SamplerOptions = {
  spec: OpenApiDocument;
  /** The share of responses checked, above 0 and at most 1. */
  rate: number;
  now: () => Date;
  report: (line: Record<string, unknown>) => void;
  count: (operationId: string, status: number) => void;
};

/** Responses to check after they are sent, picked at random, and the reports of what breaks the spec. */
export type ResponseSampler = {
  /** Whether to check this response: true for the configured share of calls. */
  pick: () => boolean;
  /** Keeps the bytes a response writes, for the check that runs once it is sent. */
  capture: (res: { write: unknown; end: unknown }) => () => Buffer | undefined;
  /** Builds the checker and compiles an operation's rules ahead of its first check (start-up warm-up). */
  warm: (op: SpecOperation) => void;
  /** Checks a sent response on a later turn of the event loop; never throws. */
  checkLater: (op: SpecOperation, sent: Omit<SentResponse, 'body'>, body: () => Buffer | undefined, id: string) => void;
};

const HOUR_MS = 3600 * 1000;

/**
 * Checks a share of the responses after they are sent: a violation is counted once per response by operation and
 * status, and logged at most once an hour per operation, status and schema path (kept in memory, per process).
 */
export function responseSampler(options: SamplerOptions): ResponseSampler {
  let checker: ResponseChecker | undefined;
  const lastLogged = new Map<string, number>();
  const check = (op: SpecOperation, sent: SentResponse, requestId: string) => {
    const violations = (checker ??= new ResponseChecker(options.spec)).check(op, sent);
    if (!violations.length) return;
    options.count(op.operationId, sent.status);
    const now = options.now().getTime();
    for (const violation of violations) {
      const key = `${op.operationId} ${sent.status} ${violation.schemaPath}`;
      const last = lastLogged.get(key);
      if (last !== undefined && now - last < HOUR_MS) continue;
      lastLogged.set(key, now);
      options.report({
        operation_id: op.operationId,
        status: sent.status,
        schema_path: violation.schemaPath,
        instance_path: violation.instancePath,
        violation: violation.message,
        request_id: requestId,
      });
    }
  };
  return {
    pick: () => Math.random() < options.rate,
    warm: (op) => (checker ??= new ResponseChecker(options.spec)).prepare(op),
    capture: (res) => {
      const chunks: Buffer[] = [];
      const keep = (chunk: unknown, encoding: unknown) => {
        if (typeof chunk === 'string')
          chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
        else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      };
      const write = res.write as (...args: unknown[]) => boolean;
      const end = res.end as (...args: unknown[]) => unknown;
      res.write = function (this: unknown, ...args: unknown[]) {
        keep(args[0], args[1]);
        return write.apply(this, args);
      };
      res.end = function (this: unknown, ...args: unknown[]) {
        if (typeof args[0] !== 'function') keep(args[0], args[1]);
        return end.apply(this, args);
      };
      return () => (chunks.length ? Buffer.concat(chunks) : undefined);
    },
    checkLater: (op, sent, body, requestId) =>
      setImmediate(() => {
        try {
          check(op, { ...sent, body: body() }, requestId);
        } catch (err) {
          options.report({ operation_id: op.operationId, status: sent.status, check_failed: String(err) });
        }
      }),
  };
}
