import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, migrateLatest } from '../src/data-access/database';
import { tracingEnabled } from '../src/lib/config';
import { buildProduct, buildUser, VALID_PASSWORD, type RowTarget, type TestUser } from './support/factories';
import { migratedDataDir } from './support/pglite-template';
import { startProcess, waitForOutput, waitForPort, type ServerProcess } from './support/processes';
import { ManualClock, testConfig, unique } from './support/test-app';
import type { SpanRecord } from './support/traced-server';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

const SERVER = 1; // SpanKind.SERVER
const KNEX = '@opentelemetry/instrumentation-knex';
const PG = '@opentelemetry/instrumentation-pg';
const REDIS = '@opentelemetry/instrumentation-redis';
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const dataDirs: string[] = [];

// The server's environment and database: the shared PostgreSQL test database, or an embedded one of its own (a copy
// of the run's migrated one). PGlite is single-process, so the rows a test needs are written before the server opens
// it.
async function serverEnv(seed?: (t: RowTarget) => Promise<void>): Promise<Record<string, string>> {
  const dataDir = onPostgres ? fs.mkdtempSync(path.join(os.tmpdir(), 'api-tracing-')) : migratedDataDir('api-tracing-');
  dataDirs.push(dataDir);
  const config = testConfig({ DATA_DIR: dataDir });
  if (seed) {
    const db = createDatabase(config.database);
    try {
      if (config.database.kind === 'pglite') await migrateLatest(db);
      await seed({ db, clock: new ManualClock(), deps: { config } });
    } finally {
      await db.destroy();
    }
  }
  return {
    SECRET_KEY: config.secretKey,
    BCRYPT_ROUNDS: '4',
    ...(config.database.kind === 'postgres'
      ? { DATABASE_URL: config.database.url, DB_POOL_MIN: '0' }
      : { DATA_DIR: dataDir }),
  };
}

afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

describe('tracingEnabled', () => {
  test('when no OTEL_* variable is set, or the exporter is none, or the SDK is disabled, then tracing is off', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: '' })).toBe(false);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp,none' })).toBe(false);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
  });

  test('when OTEL_TRACES_EXPORTER names an exporter, then tracing is on', () => {
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: ' console , otlp ' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' })).toBe(true);
  });
});

describe('the server process with tracing on (in-memory exporter)', () => {
  let server: ServerProcess;
  let base: string;
  let user: TestUser;
  let productId: number;

  beforeAll(async () => {
    const env = await serverEnv(async (t) => {
      user = await buildUser(t);
      productId = (await buildProduct(t, { priceCents: 1250, stock: 5 })).id;
    });
    server = startProcess(
      'test/support/traced-server.ts',
      {
        ...env,
        REDIS_URL: process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379',
        RATE_LIMIT_REDIS_PREFIX: `${unique('rl')}:`,
      },
      { ipc: true },
    );
    base = `http://127.0.0.1:${await waitForPort(server)}`;
  }, 120_000);

  afterAll(async () => {
    if (server) await stop(server);
  });

  const finishedSpans = () =>
    new Promise<SpanRecord[]>((resolve) => {
      server.child.once('message', (spans) => resolve(spans as SpanRecord[]));
      server.child.send('spans');
    });

  // The server span ends when the response has gone out, so it may come a moment after the client has the response.
  async function trace(serverSpanName: string, traceId?: string): Promise<{ root: SpanRecord; spans: SpanRecord[] }> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const spans = await finishedSpans();
      const roots = spans.filter(
        (s) => s.kind === SERVER && s.name === serverSpanName && (!traceId || s.traceId === traceId),
      );
      if (roots.length > 1) throw new Error(`${roots.length} server spans named ${serverSpanName}`);
      const root = roots[0];
      if (root) return { root, spans: spans.filter((s) => s.traceId === root.traceId) };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no server span named ${serverSpanName}`);
  }

  // Every span of the trace below `root`: each one's parent chain must reach it.
  function descendants(root: SpanRecord, spans: SpanRecord[]): SpanRecord[] {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    return spans.filter((span) => {
      for (let at = span.parentSpanId; at !== undefined; at = byId.get(at)?.parentSpanId) {
        if (at === root.spanId) return true;
      }
      return false;
    });
  }

  test('when a user creates an order, then one server span named createOrder carries the route, status and user id, with every query of the request under it', async () => {
    const res = await fetch(`${base}/api/v1/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...user.auth },
      body: JSON.stringify({ items: [{ product_id: productId, quantity: 2 }] }),
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as { id: number; user_id: number; total_cents: number };
    expect(order).toMatchObject({ user_id: user.id, total_cents: 2500 });
    const stored = await fetch(`${base}/api/v1/orders/${order.id}`, { headers: user.auth });
    expect(stored.status).toBe(200);

    const { root, spans } = await trace('createOrder');
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/v1/orders',
      'http.response.status_code': 201,
      'enduser.id': String(user.id),
    });
    expect(root.parentSpanId).toBeUndefined();

    const queries = descendants(root, spans).filter((s) => s.scope === KNEX);
    const sql = queries.map((s) => String(s.attributes['db.query.text']));
    // The caller's user row, the stock taken and the order written, all inside this request's trace.
    expect(sql).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/from "users"/),
        expect.stringMatching(/^update "products"/),
        expect.stringMatching(/^insert into "orders"/),
        expect.stringMatching(/^insert into "order_items"/),
      ]),
    );
    expect(queries.every((s) => s.attributes['db.system.name'] === 'postgresql')).toBe(true);
    // On PostgreSQL the pg driver's own span sits under each knex span; PGlite does not go through pg, so none.
    const driverSpans = descendants(root, spans).filter((s) => s.scope === PG && s.name.startsWith('pg.query'));
    if (onPostgres) expect(driverSpans.length).toBeGreaterThanOrEqual(queries.length);
    else expect(driverSpans).toHaveLength(0);
    // Nothing of the trace hangs outside the server span.
    expect(spans.filter((s) => s !== root && !descendants(root, spans).includes(s))).toEqual([]);
  });

  test('when the request carries a W3C traceparent, then the server continues that trace under the caller span, and its log line carries the trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const res = await fetch(`${base}/api/v1/products/${productId}`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: productId, price_cents: 1250 });

    const { root, spans } = await trace('getProduct', traceId);
    expect(root.parentSpanId).toBe(callerSpanId);
    expect(root.attributes).toMatchObject({
      'http.route': '/api/v1/products/{product_id}',
      'http.response.status_code': 200,
    });
    expect(root.attributes['enduser.id']).toBeUndefined();
    expect(descendants(root, spans).filter((s) => s.scope === KNEX).length).toBeGreaterThan(0);

    const requestId = res.headers.get('x-request-id');
    const line = await waitForOutput(server, new RegExp(`^.*"request_id":"${requestId}".*$`, 'm'));
    expect(JSON.parse(line[0])).toMatchObject({
      message: 'request',
      operation_id: 'getProduct',
      trace_id: traceId,
      span_id: root.spanId,
    });
  });

  test('when a login passes the Redis rate limiter, then its Redis calls are spans under the login span', async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user.username, password: VALID_PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'bearer' });

    const { root, spans } = await trace('login');
    expect(root.attributes).toMatchObject({ 'http.route': '/api/v1/auth/login', 'http.response.status_code': 200 });
    const redis = descendants(root, spans).filter((s) => s.scope === REDIS);
    expect(redis.map((s) => s.name)).toContain('redis-EVALSHA');
    expect(redis.every((s) => s.attributes['db.system.name'] === 'redis')).toBe(true);
  });

  test('when a request is refused before its handler, then its span still has the operation, the route and the status, and no user', async () => {
    const res = await fetch(`${base}/api/v1/users/me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error_code: 'NOT_AUTHENTICATED' });

    const { root } = await trace('getCurrentUser');
    expect(root.attributes).toMatchObject({ 'http.route': '/api/v1/users/me', 'http.response.status_code': 401 });
    expect(root.attributes['enduser.id']).toBeUndefined();
  });
});

describe('src/server.ts and the OTEL_* variables', () => {
  const loadedPackages = (server: ServerProcess) =>
    JSON.parse(/loaded @opentelemetry packages: (\[.*\])/.exec(server.output())?.[1] ?? 'null') as string[] | null;

  async function serveOneRequest(env: Record<string, string>): Promise<ServerProcess> {
    const server = startProcess('src/server.ts', env, {
      nodeOptions: ['--import', './test/support/loaded-modules.ts'],
    });
    const port = await waitForPort(server);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    await waitForOutput(server, /"message":"request"/);
    await stop(server);
    return server;
  }

  // prom-client loads @opentelemetry/api (a no-op until an SDK registers) for its exemplars, tracing or not.
  test('when no OTEL_* variable is set, then neither the SDK nor any instrumentation is loaded and the log line has no trace id', async () => {
    const server = await serveOneRequest(await serverEnv());
    expect(loadedPackages(server)?.filter((name) => name !== 'api')).toEqual([]);
    expect(server.output()).not.toContain('trace_id');
  });

  test('when OTEL_TRACES_EXPORTER=console, then the SDK is loaded from the environment alone, prints the span and the log line carries its trace id', async () => {
    const env = { ...(await serverEnv()), OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'shop-api-test' };
    const server = await serveOneRequest(env);
    expect(loadedPackages(server)).toEqual(
      expect.arrayContaining(['sdk-node', 'instrumentation-http', 'instrumentation-knex', 'instrumentation-winston']),
    );
    const line = server.output().match(/^\{.*"message":"request".*\}$/m);
    const traceId = (JSON.parse(line?.[0] ?? '{}') as { trace_id?: string }).trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.output()).toContain(`traceId: '${traceId}'`);
    expect(server.output()).toContain("name: 'getHealth'");
    expect(server.output()).toContain("'service.name': 'shop-api-test'");
  });
});
