import fc from 'fast-check';
import { buildCategory, buildPost, buildProduct, buildUser, VALID_PASSWORD, type TestUser } from './support/factories';
import { dataInvariantViolations, SecretWatch } from './support/invariants';
import {
  contractProblems,
  invalidRequestArb,
  loadFuzzOperations,
  OWN_ROW,
  validRequestArb,
  type FuzzOperation,
  type Received,
  type RequestPlan,
} from './support/openapi-fuzz';
import { startTestApp, type TestApp } from './support/test-app';

// Every operation of the spec, read when the suite runs: a new operation is fuzzed without touching this file.
const OPERATIONS = loadFuzzOperations();
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
const NEW_PASSWORD = 'New-Correct-Horse-10';
// Shrinking replays requests against the database; bound it so a failure is reported before jest gives up.
const TIME_LIMIT_MS = 100_000;

let t: TestApp;
const watch = new SecretWatch();
const userIds = new Set<number>();
const statuses = new Map<string, Map<number, number>>();

beforeAll(async () => {
  t = await startTestApp();
  watch.password(VALID_PASSWORD, NEW_PASSWORD);
});

afterAll(async () => {
  try {
    if (process.env.FUZZ_REPORT) {
      const lines = [...statuses].map(([id, counts]) => `${id}: ${[...counts].map(([s, n]) => `${s}×${n}`).join(' ')}`);
      console.log(`statuses per operation\n${lines.join('\n')}`);
    }
    const violations = [...(await dataInvariantViolations(t.db, { userIds })), ...watch.leaks(t.logs.entries)];
    expect(violations).toEqual([]);
    expect(watch.responseCount).toBeGreaterThan(0);
  } finally {
    await t.close();
  }
});

// Values that make generated requests reach real rows and succeed now and then, instead of bouncing off as 404s.
const HINTS: Record<string, fc.Arbitrary<unknown>> = {
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

async function newUser(isSuperuser = false): Promise<TestUser> {
  const user = await buildUser(t, { isSuperuser });
  userIds.add(user.id);
  watch.token(user.token);
  return user;
}

async function placeOrder(owner: TestUser): Promise<number> {
  const product = await buildProduct(t, { stock: 50 });
  const res = await t.request
    .post('/api/v1/orders')
    .set(owner.auth)
    .send({ items: [{ product_id: product.id, quantity: 2 }] });
  if (res.status !== 201) throw new Error(`fixture order failed: ${res.status} ${res.text}`);
  return res.body.id as number;
}

/** One generated request's world: its caller and the rows its placeholders stand for. */
class Case {
  private products: number[] = [];
  private nextProduct = 0;
  constructor(readonly caller: TestUser) {}

  /** A real row for a path parameter: the caller's own, or another user's; an arbitrary id for unknown names. */
  async row(param: string, own: boolean): Promise<number> {
    switch (param) {
      case 'user_id':
        return own ? this.caller.id : (await newUser()).id;
      case 'category_id':
        return (await buildCategory(t)).id;
      case 'product_id':
        return (await buildProduct(t, { stock: 50 })).id;
      case 'order_id':
        return placeOrder(own ? this.caller : await newUser());
      case 'post_id':
        return (await buildPost(t, own ? this.caller : await newUser(), { published: !own })).id;
      default:
        return 1;
    }
  }

  async placeholder(name: string): Promise<unknown> {
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
        const res = await t.request
          .post('/api/v1/auth/login')
          .send({ username: this.caller.username, password: VALID_PASSWORD });
        watch.response('fixture login', res.text, true);
        return res.body.refresh_token as string;
      }
      case 'product_id':
        // A few distinct products per request, then reuse: a 101-item order must not insert 101 products.
        if (this.products.length < 4) this.products.push((await buildProduct(t, { stock: 50 })).id);
        return this.products[this.nextProduct++ % this.products.length];
      case 'category_id':
        return (await buildCategory(t)).id;
      default:
        throw new Error(`unknown placeholder «${name}»`);
    }
  }

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
}

const issuesTokens = (op: FuzzOperation) =>
  Object.entries(op.responses).some(
    ([status, r]) => status.startsWith('2') && JSON.stringify(r.content).includes('"refresh_token"'),
  );

function encodeBody(contentType: string, value: unknown): string {
  if (contentType !== 'application/x-www-form-urlencoded') return JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  const form = new URLSearchParams();
  for (const [key, item] of Object.entries(value))
    form.append(key, typeof item === 'string' ? item : JSON.stringify(item));
  return form.toString();
}

/** Sends one planned request and returns a printable reproduction with the response. */
async function send(op: FuzzOperation, plan: RequestPlan): Promise<{ request: string; res: Received }> {
  const c = new Case(await newUser(plan.role === 'superuser'));
  let path = op.path;
  for (const [name, raw] of Object.entries(plan.path)) {
    const value = raw === OWN_ROW || raw === '«other»' ? await c.row(name, raw === OWN_ROW) : raw;
    path = path.replace(`{${name}}`, encodeURIComponent(String(value)));
  }
  const query = new URLSearchParams();
  for (const [name, raw] of plan.query) query.append(name, String(await c.resolve(raw)));
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(plan.headers)) headers[name] = String(await c.resolve(raw));
  let body: string | undefined;
  if (plan.body) {
    headers['Content-Type'] = plan.body.contentType;
    body = encodeBody(plan.body.contentType, await c.resolve(plan.body.value));
  }
  const search = query.toString();
  const url = `${path}${search ? `?${search}` : ''}`;
  const request = [
    `${op.method.toUpperCase()} ${url}`,
    `  as: ${plan.role}, headers: ${JSON.stringify(headers)}`,
    body === undefined
      ? '  no body'
      : `  body: ${body.length > 2000 ? `${body.slice(0, 2000)}… (${body.length} chars)` : body}`,
  ].join('\n');
  if (plan.role !== 'anonymous') headers.Authorization = c.caller.auth.Authorization;
  const response = await fetch(`${t.url}${url}`, { method: op.method.toUpperCase(), headers, body });
  const res = { status: response.status, headers: response.headers, text: await response.text() };
  watch.response(op.operationId, res.text, issuesTokens(op) && res.status === 200);
  const counts = statuses.get(op.operationId) ?? new Map<number, number>();
  counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
  statuses.set(op.operationId, counts);
  return { request, res };
}

// A seed per operation, so adding an operation to the spec does not change what the others are sent.
const seedOf = (operationId: string) =>
  [...operationId].reduce((hash, ch) => (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0, SEED);

async function fuzz(op: FuzzOperation, arb: fc.Arbitrary<RequestPlan>, refusal: boolean): Promise<void> {
  const property = fc.asyncProperty(arb, async (plan) => {
    const { request, res } = await send(op, plan);
    const problems = contractProblems(op, res, refusal);
    if (problems.length === 0) return;
    throw new Error(
      [
        ...problems,
        `request:\n${request}`,
        ...(plan.mutation ? [`breaks: ${plan.mutation}`] : []),
        `response: ${res.status} ${res.text.slice(0, 1000)}`,
      ].join('\n'),
    );
  });
  await fc.assert(property, {
    numRuns: RUNS,
    seed: seedOf(op.operationId),
    interruptAfterTimeLimit: TIME_LIMIT_MS,
  });
}

describe.each(OPERATIONS.map((op) => [op.operationId, op] as const))('%s', (_operationId, op) => {
  test('when it gets generated valid requests, then every answer is documented, matches its schema and is never a 5xx', async () => {
    await fuzz(op, validRequestArb(op, { hints: HINTS }), false);
  }, 150_000);

  test('when it gets requests that break one constraint, then every answer is a documented 4xx ErrorResponse', async () => {
    await fuzz(op, invalidRequestArb(op, { hints: HINTS }), true);
  }, 150_000);
});
