import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { buildCategory, buildPost, buildProduct, buildUser, VALID_PASSWORD, type TestUser } from './factories';
import type { SecretWatch } from './invariants';
import { OTHER_ROW, OWN_ROW, type BodyEncoding, type FuzzOperation, type RequestPlan, type Role } from './openapi-fuzz';
import type { TestApp } from './test-app';

/** The password generated password changes and resets set. */
export const NEW_PASSWORD = 'New-Correct-Horse-10';

/**
 * Values that let generated requests reach real rows and succeed now and then, instead of bouncing off as 404s:
 * placeholders («name») that a Case resolves per request.
 */
export const HINTS: Record<string, fc.Arbitrary<unknown>> = {
  username: fc.constantFrom('«caller.username»', '«caller.email»'),
  password: fc.constant('«password»'),
  current_password: fc.constant('«password»'),
  new_password: fc.constant(NEW_PASSWORD),
  refresh_token: fc.constant('«refresh_token»'),
  product_id: fc.constant('«product_id»'),
  category_id: fc.constant('«category_id»'),
  user_id: fc.constant('«caller.id»'),
  author_id: fc.constant('«caller.id»'),
};
const PLACEHOLDER = /^«([a-z_.]+)»$/;

/** A response as a test sees it, plus a printable reproduction of the request that produced it. */
export type Sent = { request: string; status: number; headers: Headers; text: string };

/**
 * Makes the rows and callers that generated requests need, remembering every user it creates (for the invariant
 * scope) and every token and response (for the secret scan).
 */
export class Fixtures {
  readonly userIds = new Set<number>();

  constructor(
    private readonly t: TestApp,
    private readonly watch: SecretWatch,
  ) {
    watch.password(VALID_PASSWORD, NEW_PASSWORD);
  }

  /** Inserts a user (a superuser when asked) and remembers it. */
  async user(isSuperuser = false): Promise<TestUser> {
    const user = await buildUser(this.t, { isSuperuser });
    this.userIds.add(user.id);
    this.watch.token(user.token);
    return user;
  }

  /** Places a one-item order through the API for the owner, and returns its id. */
  async order(owner: TestUser): Promise<number> {
    const product = await buildProduct(this.t, { stock: 50 });
    const res = await this.t.request
      .post('/api/v1/orders')
      .set(owner.auth)
      .send({ items: [{ product_id: product.id, quantity: 2 }] });
    if (res.status !== 201) throw new Error(`fixture order failed: ${res.status} ${res.text}`);
    return res.body.id as number;
  }

  /** Starts the world of one request: a fresh caller of the given role. */
  async newCase(role: Role): Promise<Case> {
    return new Case(this, this.t, this.watch, await this.user(role === 'superuser'), role);
  }

  /** Sends a planned request with a fresh caller and real rows in place of its placeholders. */
  async send(op: FuzzOperation, plan: RequestPlan): Promise<Sent> {
    const c = await this.newCase(plan.role);
    let path = op.path;
    for (const [name, raw] of Object.entries(plan.path)) {
      const value = raw === OWN_ROW || raw === OTHER_ROW ? await c.row(name, raw === OWN_ROW) : raw;
      path = path.replace(`{${name}}`, encodeURIComponent(String(value)));
    }
    const pairs: string[] = [];
    for (const [name, raw] of plan.query)
      pairs.push(`${strictEncode(name)}=${strictEncode(String(await c.resolve(raw)))}`);
    const headers: Record<string, string> = {};
    for (const [name, raw] of Object.entries(plan.headers)) headers[name] = String(await c.resolve(raw));
    let body: string | Buffer | undefined;
    if (plan.body) {
      headers['Content-Type'] = plan.body.contentType;
      body = encodeBody(plan.body.contentType, await c.resolve(plan.body.value));
      if (plan.encoding) {
        headers['Content-Encoding'] = plan.encoding.coding;
        body = compress(body, plan.encoding);
      }
    }
    const search = pairs.join('&');
    return c.send(op, `${path}${search ? `?${search}` : ''}`, headers, body);
  }
}

/**
 * Percent-encodes everything but RFC 3986's unreserved characters. The validator refuses reserved characters such
 * as `+` (a form-encoded space), `,` or `(` left raw in a query value (reported), so generated requests avoid them.
 */
export const strictEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const COMPRESSORS: Record<string, (input: Buffer) => Buffer> = {
  gzip: gzipSync,
  deflate: deflateSync,
  br: brotliCompressSync,
};

/** The body under its coding; spoiled, the bytes the coding cannot decode (cut short, or never compressed). */
function compress(body: string, encoding: BodyEncoding): Buffer {
  const plain = Buffer.from(body);
  const compressor = COMPRESSORS[encoding.coding];
  if (!compressor || encoding.spoil === 'not-compressed') return Buffer.concat([Buffer.from('\u00ff\u00fe'), plain]);
  const packed = compressor(plain);
  return encoding.spoil === 'truncated' ? packed.subarray(0, Math.max(1, Math.floor(packed.length / 2))) : packed;
}

function encodeBody(contentType: string, value: unknown): string {
  if (contentType !== 'application/x-www-form-urlencoded') return JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  const form = new URLSearchParams();
  for (const [key, item] of Object.entries(value))
    form.append(key, typeof item === 'string' ? item : JSON.stringify(item));
  return form.toString();
}

const issuesTokens = (op: FuzzOperation) =>
  Object.entries(op.responses).some(
    ([status, r]) => status.startsWith('2') && JSON.stringify(r.content).includes('"refresh_token"'),
  );

/** One request's world: its caller and the rows its placeholders stand for. */
export class Case {
  private products: number[] = [];
  private nextProduct = 0;

  constructor(
    private readonly fixtures: Fixtures,
    private readonly t: TestApp,
    private readonly watch: SecretWatch,
    readonly caller: TestUser,
    readonly role: Role,
  ) {}

  /** A real row for a path parameter: the caller's own, or another user's; an arbitrary id for unknown names. */
  async row(param: string, own: boolean): Promise<number> {
    switch (param) {
      case 'user_id':
        return own ? this.caller.id : (await this.fixtures.user()).id;
      case 'category_id':
        return (await buildCategory(this.t)).id;
      case 'product_id':
        return (await buildProduct(this.t, { stock: 50 })).id;
      case 'order_id':
        return this.fixtures.order(own ? this.caller : await this.fixtures.user());
      case 'post_id':
        return (await buildPost(this.t, own ? this.caller : await this.fixtures.user(), { published: !own })).id;
      default:
        return 1;
    }
  }

  private async placeholder(name: string): Promise<unknown> {
    switch (name) {
      case 'caller.username':
        return this.caller.username;
      case 'caller.email':
        return this.caller.email;
      case 'caller.id':
        return this.caller.id;
      case 'password':
        return VALID_PASSWORD;
      case 'refresh_token': {
        const res = await this.t.request
          .post('/api/v1/auth/login')
          .send({ username: this.caller.username, password: VALID_PASSWORD });
        this.watch.response('fixture login', res.text, true);
        return res.body.refresh_token as string;
      }
      case 'product_id':
        // A few distinct products per request, then reuse: a 101-item order must not insert 101 products.
        if (this.products.length < 4) this.products.push((await buildProduct(this.t, { stock: 50 })).id);
        return this.products[this.nextProduct++ % this.products.length];
      case 'category_id':
        return (await buildCategory(this.t)).id;
      default:
        throw new Error(`unknown placeholder «${name}»`);
    }
  }

  /** Replaces every placeholder inside a value by its real value. */
  async resolve(value: unknown): Promise<unknown> {
    if (typeof value === 'string') {
      const match = PLACEHOLDER.exec(value);
      return match?.[1] ? this.placeholder(match[1]) : value;
    }
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const item of value) out.push(await this.resolve(item));
      return out;
    }
    if (typeof value === 'object' && value !== null) {
      const entries: [string, unknown][] = [];
      for (const [key, item] of Object.entries(value)) entries.push([key, await this.resolve(item)]);
      return Object.fromEntries(entries);
    }
    return value;
  }

  /** Sends a request as this case's caller (none when anonymous) and records the response for the secret scan. */
  async send(op: FuzzOperation, url: string, headers: Record<string, string>, body?: string | Buffer): Promise<Sent> {
    const shown =
      typeof body !== 'string'
        ? body && `${body.length} bytes under ${headers['Content-Encoding']}`
        : body.length > 2000
          ? `${body.slice(0, 2000)}… (${body.length} chars)`
          : body;
    const request = [
      `${op.method.toUpperCase()} ${url}`,
      `  as: ${this.role}, headers: ${JSON.stringify(headers)}`,
      shown === undefined ? '  no body' : `  body: ${shown}`,
    ].join('\n');
    const all = this.role === 'anonymous' ? headers : { ...headers, Authorization: this.caller.auth.Authorization };
    const response = await fetch(`${this.t.url}${url}`, { method: op.method.toUpperCase(), headers: all, body });
    const text = await response.text();
    this.watch.response(op.operationId, text, issuesTokens(op) && response.status === 200);
    return { request, status: response.status, headers: response.headers, text };
  }
}
