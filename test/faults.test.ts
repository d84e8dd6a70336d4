import net from 'node:net';
import { createDatabase, migrateLatest, type Db } from '../src/data-access/database';
import { eventually } from './support/eventually';
import { buildProduct, type TestUser } from './support/factories';
import { Fixtures } from './support/fuzz-fixtures';
import { dataInvariantViolations, SecretWatch } from './support/invariants';
import { contractProblems, loadFuzzOperations, type FuzzOperation } from './support/openapi-fuzz';
import { createScratchDatabase } from './support/processes';
import { startTestApp, unique, type TestApp } from './support/test-app';

/**
 * A TCP proxy between the app's pool and PostgreSQL. `cut` refuses new connections and resets the open ones, as
 * when the database host goes away; `stall` keeps every connection open but forwards nothing, as when packets are
 * dropped; `restore` brings the path back on the same port, so the app reconnects with no restart.
 */
class DatabaseLink {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly held: (() => void)[] = [];
  private stalled = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => this.link(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private link(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = [client, upstream] as const;
    for (const [from, to] of [pair, [upstream, client] as const]) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (this.stalled) this.held.push(() => to.write(chunk));
        else to.write(chunk);
      });
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      // A reset is the point of the exercise; without a listener it would crash the test process.
      from.on('error', () => to.destroy());
    }
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stall(): void {
    this.stalled = true;
  }

  async restore(): Promise<void> {
    this.stalled = false;
    for (const flush of this.held.splice(0)) flush();
    if (!this.server) await this.open();
  }
}

const OPERATIONS = loadFuzzOperations();
const op = (operationId: string): FuzzOperation => {
  const found = OPERATIONS.find((o) => o.operationId === operationId);
  if (!found) throw new Error(`no operation ${operationId}`);
  return found;
};

// Small timeouts, so that "quickly" can be asserted: an outage must be reported in about these times, not hang.
const CONNECT_TIMEOUT_MS = 500;
const STATEMENT_TIMEOUT_MS = 2000;
const READINESS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 3000;
const QUICKLY_MS = 3000;

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let direct: Db;
let link: DatabaseLink;
let t: TestApp;
let fixtures: Fixtures;
const watch = new SecretWatch();

beforeAll(async () => {
  scratch = await createScratchDatabase();
  direct = createDatabase({
    kind: 'postgres',
    url: scratch.url,
    poolMin: 0,
    poolMax: 2,
    statementTimeoutMs: 30_000,
    connectTimeoutMs: 5_000,
  });
  await migrateLatest(direct);
  const target = new URL(scratch.url);
  link = new DatabaseLink({ host: target.hostname, port: Number(target.port || 5432) });
  await link.open();
  t = await startTestApp({ env: linkEnv() });
  fixtures = new Fixtures(t, watch);
}, 60_000);

afterAll(async () => {
  try {
    await link.restore();
    const violations = [
      ...(await dataInvariantViolations(direct, { userIds: fixtures.userIds })),
      ...watch.leaks(t.logs.entries),
    ];
    expect(violations).toEqual([]);
  } finally {
    await t.close();
    await link.cut();
    await direct.destroy();
    await scratch.drop();
  }
}, 60_000);

/** The environment of an app whose database is reached through the link. */
function linkEnv(): Record<string, string> {
  const viaLink = new URL(scratch.url);
  viaLink.host = `127.0.0.1:${link.port}`;
  return {
    DATABASE_URL: viaLink.toString(),
    DB_POOL_MIN: '0',
    DB_POOL_MAX: '4',
    DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    READINESS_TIMEOUT_MS: String(READINESS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  };
}

type Answer = { status: number; headers: Headers; text: string; elapsedMs: number };

/** Sends a request and times it; the body is recorded for the secret scan. */
async function timed(path: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${t.url}${path}`, init);
  const text = await res.text();
  watch.response(`${init.method ?? 'GET'} ${path}`, text);
  return { status: res.status, headers: res.headers, text, elapsedMs: Date.now() - started };
}

const json = (body: unknown, auth: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { ...auth, 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** Polls a request every 100 ms until it answers 200, failing after 10 s. */
const recovered = (send: () => Promise<{ status: number }>) =>
  eventually(async () => ((await send()).status === 200 ? true : undefined), 10_000, 'not recovered in time', 100);

const soldAndStock = async (productId: number) => {
  const [sold] = await direct('order_items').where({ product_id: productId }).sum({ n: 'quantity' });
  const product = await direct('products').where({ id: productId }).first();
  return { sold: Number(sold?.n ?? 0), stock: Number(product.stock) };
};

describe('PostgreSQL unreachable in the middle of a run', () => {
  test('when the database goes away, then requests answer 503 quickly, readiness says so and the process stays up; when it is back, requests succeed with no restart', async () => {
    const user = await fixtures.user();
    const product = await buildProduct(t, { stock: 50 });
    const order = () => timed('/api/v1/orders', json({ items: [{ product_id: product.id, quantity: 1 }] }, user.auth));
    expect((await order()).status).toBe(201);
    expect((await timed('/health/ready')).status).toBe(200);

    await link.cut();
    const calls: [string, () => Promise<Answer>][] = [
      ['listProducts', () => timed('/api/v1/products')],
      ['getCurrentUser', () => timed('/api/v1/users/me', { headers: user.auth })],
      ['createOrder', order],
      ['login', () => timed('/api/v1/auth/login', json({ username: user.username, password: user.password }))],
    ];
    for (const [operationId, send] of calls) {
      const res = await send();
      expect({ operationId, status: res.status, code: JSON.parse(res.text).error_code }).toEqual({
        operationId,
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(res.elapsedMs).toBeLessThan(QUICKLY_MS);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      // Documented, and an ErrorResponse; a 503 is the one 5xx that is right here.
      const problems = contractProblems(op(operationId), res, false).filter((p) => p !== 'server error 503');
      expect(problems).toEqual([]);
    }
    const ready = await timed('/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).checks.database.status).toBe('down');
    expect(ready.elapsedMs).toBeLessThan(READINESS_TIMEOUT_MS + 1000);
    expect((await timed('/health')).status).toBe(200);

    await link.restore();
    await recovered(() => timed('/api/v1/products'));
    expect((await order()).status).toBe(201);
    expect((await timed('/health/ready')).status).toBe(200);
    expect((await timed('/api/v1/users/me', { headers: user.auth })).status).toBe(200);
    expect(await soldAndStock(product.id)).toEqual({ sold: 2, stock: 48 });
  });

  test('when the network drops packets instead, then requests end with a 503 by the request timeout and recover once it heals', async () => {
    const user = await fixtures.user();
    expect((await timed('/api/v1/users/me', { headers: user.auth })).status).toBe(200);
    link.stall();
    try {
      const [me, products] = await Promise.all([
        timed('/api/v1/users/me', { headers: user.auth }),
        timed('/api/v1/products'),
      ]);
      for (const res of [me, products]) {
        expect(res.status).toBe(503);
        expect(['REQUEST_TIMEOUT', 'SERVICE_UNAVAILABLE']).toContain(JSON.parse(res.text).error_code);
        expect(res.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
      }
      const ready = await timed('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.elapsedMs).toBeLessThan(READINESS_TIMEOUT_MS + 1000);
      expect((await timed('/health')).status).toBe(200);
    } finally {
      await link.restore();
    }
    await recovered(() => timed('/api/v1/users/me', { headers: user.auth }));
  });

  test('when connecting hangs (the proxy accepts and never answers), then every concurrent request gets a 503 in the error format and a fresh pool recovers by itself', async () => {
    // A second app whose pool holds no connection yet: each request must open one through the stalled link.
    const fresh = await startTestApp({ env: linkEnv() });
    try {
      link.stall();
      const answers = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const started = performance.now();
          const res = await fetch(`${fresh.url}/api/v1/products`);
          return {
            status: res.status,
            body: (await res.json()) as Record<string, unknown>,
            ms: performance.now() - started,
          };
        }),
      );
      for (const answer of answers) {
        expect({ status: answer.status, error_code: answer.body.error_code }).toEqual({
          status: 503,
          error_code: 'SERVICE_UNAVAILABLE',
        });
        expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
      }
      await link.restore();
      await recovered(() => fetch(`${fresh.url}/api/v1/products`));
    } finally {
      await link.restore();
      await fresh.close();
    }
  });

  test('when the database drops while orders are being placed, then each order is whole or absent, stock adds up, and retries with the same key place each order once', async () => {
    const initial = 200;
    const product = await buildProduct(t, { stock: initial });
    const buyers: TestUser[] = [];
    for (let i = 0; i < 4; i++) buyers.push(await fixtures.user());
    const requests = Array.from({ length: 24 }, (_, i) => ({
      buyer: buyers[i % buyers.length] as TestUser,
      key: unique('cut'),
      quantity: 1 + (i % 3),
    }));
    const place = (r: (typeof requests)[number]) =>
      timed('/api/v1/orders', {
        method: 'POST',
        headers: { ...r.buyer.auth, 'Content-Type': 'application/json', 'Idempotency-Key': r.key },
        body: JSON.stringify({ items: [{ product_id: product.id, quantity: r.quantity }] }),
      });
    const inFlight = requests.map((r, i) => new Promise((resolve) => setTimeout(resolve, i * 3)).then(() => place(r)));
    await new Promise((resolve) => setTimeout(resolve, 25));
    await link.cut();
    const first = await Promise.all(inFlight);
    for (const res of first) expect([201, 503]).toContain(res.status);
    await link.restore();
    await recovered(() => timed('/api/v1/products'));

    const after = await soldAndStock(product.id);
    expect(after.sold + after.stock).toBe(initial);
    // Retrying every request with its key: what was placed is replayed, what was not is placed now, once.
    const retried = [];
    for (const r of requests) retried.push(await place(r));
    expect(retried.map((res) => res.status)).toEqual(requests.map(() => 201));
    const orderIds = retried.map((res) => JSON.parse(res.text).id as number);
    expect(new Set(orderIds).size).toBe(requests.length);
    first.forEach((res, i) => {
      if (res.status === 201) expect(JSON.parse(res.text).id).toBe(orderIds[i]);
    });
    const placed = await direct('orders')
      .whereIn(
        'user_id',
        buyers.map((b) => b.id),
      )
      .count({ n: '*' });
    expect(Number(placed[0]?.n)).toBe(requests.length);
    const wanted = requests.reduce((sum, r) => sum + r.quantity, 0);
    expect(await soldAndStock(product.id)).toEqual({ sold: wanted, stock: initial - wanted });
  });
});

/** Opens a raw connection, writes `data`, waits a moment and cuts the connection, as a client that goes away. */
function sendAndVanish(data: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(t.url).port), '127.0.0.1', () => {
      socket.write(data);
      setTimeout(() => socket.destroy(), afterMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

const orderRequest = (
  auth: Record<string, string>,
  body: string,
  extra: Record<string, string> = {},
  length = body.length,
) =>
  [
    'POST /api/v1/orders HTTP/1.1',
    `Host: 127.0.0.1`,
    `Authorization: ${auth.Authorization}`,
    'Content-Type: application/json',
    `Content-Length: ${length}`,
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');

describe('clients that disconnect mid-request', () => {
  test('when createOrder uploads are aborted halfway, then no order is written and stock is untouched', async () => {
    const buyer = await fixtures.user();
    const product = await buildProduct(t, { stock: 30 });
    const body = JSON.stringify({ items: [{ product_id: product.id, quantity: 1 }] });
    for (let i = 0; i < 10; i++) {
      const partial = body.slice(0, Math.floor((body.length * i) / 10));
      await sendAndVanish(orderRequest(buyer.auth, body) + partial, 20);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [orders] = await direct('orders').where({ user_id: buyer.id }).count({ n: '*' });
    expect(Number(orders?.n)).toBe(0);
    expect(await soldAndStock(product.id)).toEqual({ sold: 0, stock: 30 });
    expect((await timed('/health')).status).toBe(200);
  });

  test('when clients close their sockets while createOrder runs, then each order is whole or absent and retries with the same key place it once', async () => {
    const initial = 100;
    const buyer = await fixtures.user();
    const product = await buildProduct(t, { stock: initial });
    const body = JSON.stringify({ items: [{ product_id: product.id, quantity: 2 }] });
    const keys = Array.from({ length: 16 }, () => unique('gone'));
    // Cut at different moments: before the handler starts, inside the transaction, after it has answered.
    await Promise.all(
      keys.map((key, i) => sendAndVanish(orderRequest(buyer.auth, body, { 'Idempotency-Key': key }) + body, i * 2)),
    );
    const retried = [];
    for (const key of keys) {
      retried.push(
        await timed('/api/v1/orders', {
          method: 'POST',
          headers: { ...buyer.auth, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body,
        }),
      );
    }
    expect(retried.map((res) => res.status)).toEqual(keys.map(() => 201));
    expect(new Set(retried.map((res) => JSON.parse(res.text).id)).size).toBe(keys.length);
    const [orders] = await direct('orders').where({ user_id: buyer.id }).count({ n: '*' });
    expect(Number(orders?.n)).toBe(keys.length);
    expect(await soldAndStock(product.id)).toEqual({ sold: 2 * keys.length, stock: initial - 2 * keys.length });
  });
});

describe('unexpected errors', () => {
  // test/error-model.test.ts covers a throwing clock; this is an unexpected failure deep in a real query.
  test('when a handler fails on an unexpected database error, then it is a 500 ErrorResponse with the request id and nothing internal, the error is logged in full, and the next requests work', async () => {
    await direct.raw('ALTER TABLE posts RENAME TO posts_moved_away');
    try {
      const res = await timed('/api/v1/posts', { headers: { 'X-Request-Id': 'fault-probe-1' } });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-request-id')).toBe('fault-probe-1');
      expect(JSON.parse(res.text)).toMatchObject({ error_code: 'INTERNAL_ERROR', request_id: 'fault-probe-1' });
      expect(res.text).not.toMatch(/relation|select|does not exist|node_modules|stack|\bat\b/i);
      expect(contractProblems(op('listPosts'), res, false).filter((p) => p !== 'server error 500')).toEqual([]);
      const logged = t.logs.entries.find((e) => e.message === 'request failed' && e.request_id === 'fault-probe-1');
      expect(JSON.stringify(logged)).toMatch(/relation .*posts.* does not exist/);
      expect(JSON.stringify(logged)).toContain('stack');
      // Meanwhile everything else works.
      expect((await timed('/api/v1/products')).status).toBe(200);
    } finally {
      await direct.raw('ALTER TABLE posts_moved_away RENAME TO posts');
    }
    expect((await timed('/api/v1/posts')).status).toBe(200);
    expect((await timed('/health/ready')).status).toBe(200);
  });
});
