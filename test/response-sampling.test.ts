import express from 'express';
import supertest from 'supertest';
import { createPipeline, notFound } from '../src/http/binding/pipeline';
import type { Handlers } from '../src/http/binding/operations';
import { loadSpec, type OpenApiDocument } from '../src/http/binding/spec';
import { errorHandler } from '../src/http/errors/error-handler';
import { createMetrics } from '../src/http/middleware/metrics';
import { ConfigError, loadConfig } from '../src/lib/config';
import { createLogger } from '../src/lib/logger';
import { buildProduct } from './support/factories';
import { eventually } from './support/eventually';
import { ManualClock, MemoryTransport, startTestApp, type TestApp } from './support/test-app';

const VIOLATION = 'response violates the spec (sampled)';
const HOUR_MS = 3600 * 1000;
// PriceCents allows at most 1,000,000,000; the column takes any integer, so a row written around the API breaks it.
const TOO_EXPENSIVE = 2_000_000_000;

const violations = (logs: MemoryTransport, operationId: string) =>
  logs.entries.filter((e) => e.message === VIOLATION && e.operation_id === operationId);

async function counted(registry: { metrics: () => Promise<string> }, operationId: string, status: number) {
  const text = await registry.metrics();
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`response_validation_violations_total{operation_id="${operationId}",status="${status}"}`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Waits until the violations counted for an operation and status reach `n` (the check runs after the response). */
const untilCounted = (registry: { metrics: () => Promise<string> }, operationId: string, status: number, n: number) =>
  eventually(async () => ((await counted(registry, operationId, status)) === n ? true : undefined));

// On PostgreSQL the test files share one database: a product that breaks the schema must not outlive its test, or
// another file's unfiltered listing would meet it.
const removeBrokenProducts = (t: TestApp) => t.db('products').where({ price_cents: TOO_EXPENSIVE }).delete();

describe('VALIDATE_RESPONSES=sample:1', () => {
  let t: TestApp;
  let metrics: { metrics: () => Promise<string> };
  beforeAll(async () => {
    t = await startTestApp({ env: { VALIDATE_RESPONSES: 'sample:1' } });
    metrics = { metrics: async () => (await t.request.get('/metrics')).text };
  });
  afterEach(async () => {
    await removeBrokenProducts(t);
  });
  afterAll(async () => {
    await t.close();
  });

  test('when a stored row breaks the response schema, then the response goes out unchanged and the violation is logged and counted', async () => {
    const product = await buildProduct(t, { priceCents: TOO_EXPENSIVE });
    const res = await t.request.get(`/api/v1/products/${product.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, price_cents: TOO_EXPENSIVE });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    await untilCounted(metrics, 'getProduct', 200, 1);
    expect(violations(t.logs, 'getProduct')).toEqual([
      expect.objectContaining({
        level: 'warn',
        status: 200,
        schema_path: '#/components/schemas/PriceCents/maximum',
        instance_path: '/price_cents',
        violation: 'must be <= 1000000000',
        request_id: res.headers['x-request-id'],
      }),
    ]);
  });

  test('when the same violation comes again within the hour, then it is counted but logged once; an hour later it is logged again', async () => {
    const product = await buildProduct(t, { priceCents: TOO_EXPENSIVE });
    const logged = () => violations(t.logs, 'getProduct').length;
    const before = await counted(metrics, 'getProduct', 200);
    const loggedBefore = logged();
    expect((await t.request.get(`/api/v1/products/${product.id}`)).status).toBe(200);
    await untilCounted(metrics, 'getProduct', 200, before + 1);
    expect(logged()).toBe(loggedBefore);

    t.clock.advance(HOUR_MS - 1000);
    expect((await t.request.get(`/api/v1/products/${product.id}`)).status).toBe(200);
    await untilCounted(metrics, 'getProduct', 200, before + 2);
    expect(logged()).toBe(loggedBefore);

    t.clock.advance(HOUR_MS);
    expect((await t.request.get(`/api/v1/products/${product.id}`)).status).toBe(200);
    await eventually(() => (logged() === loggedBefore + 1 ? true : undefined));
    expect(await counted(metrics, 'getProduct', 200)).toBe(before + 3);
  });

  test('when responses keep to the spec, then nothing is logged or counted for them', async () => {
    const product = await buildProduct(t);
    const res = await t.request.get(`/api/v1/products/${product.id}`);
    expect(res.status).toBe(200);
    const missing = await t.request.get('/api/v1/products/2147483647');
    expect(missing.status).toBe(404);
    // The check of a later response runs after the one of an earlier: a violation of the later one shows that both
    // checks have run.
    const broken = await buildProduct(t, { priceCents: TOO_EXPENSIVE });
    const before = await counted(metrics, 'getProduct', 200);
    await t.request.get(`/api/v1/products/${broken.id}`);
    await untilCounted(metrics, 'getProduct', 200, before + 1);
    expect(await counted(metrics, 'getProduct', 404)).toBe(0);
    expect(violations(t.logs, 'getProduct').filter((e) => e.request_id === res.headers['x-request-id'])).toEqual([]);
  });
});

describe('response validation in full mode (the test default)', () => {
  test('when a stored row breaks the response schema, then the response is a 500, as before', async () => {
    const t = await startTestApp();
    try {
      const product = await buildProduct(t, { priceCents: TOO_EXPENSIVE });
      const res = await t.request.get(`/api/v1/products/${product.id}`);
      expect(res.status).toBe(500);
      expect(res.body.error_code).toBe('INTERNAL_ERROR');
    } finally {
      await removeBrokenProducts(t);
      await t.close();
    }
  });
});

describe('the sampled check of statuses and headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await removeBrokenProducts(t);
  });
  afterAll(async () => {
    await t.close();
  });

  // The real pipeline over a spec, with handlers that answer what the spec does not declare.
  const pipelineApp = (spec: OpenApiDocument, handlers: Partial<Handlers>) => {
    const logs = new MemoryTransport();
    const logger = createLogger({ logLevel: 'debug', logFormat: 'json' }, [logs]);
    const metrics = createMetrics(t.db);
    const app = express()
      .use(
        createPipeline({
          spec,
          handlers,
          authenticate: async () => undefined,
          logger,
          metrics,
          rateLimiters: { default: (_req, _res, next) => next(), auth: (_req, _res, next) => next() },
          maxBodyBytes: 1024,
          validateResponses: false,
          responseSampleRate: 1,
          clock: new ManualClock(),
          requestTimeoutMs: 5000,
        }),
      )
      .use(notFound())
      .use(errorHandler(logger));
    return { request: supertest(app), logs, metrics: metrics.registry };
  };

  test('when a handler answers a status its operation does not declare, then it is sent and reported', async () => {
    const app = pipelineApp(loadSpec(), {
      getHealth: async () =>
        ({ status: 418, body: { status: 'healthy', timestamp: new Date().toISOString() } }) as never,
    });
    const res = await app.request.get('/health');
    expect(res.status).toBe(418);
    await untilCounted(app.metrics, 'getHealth', 418, 1);
    expect(violations(app.logs, 'getHealth')).toEqual([
      expect.objectContaining({
        status: 418,
        schema_path: '#/paths/~1health/get/responses',
        violation: 'status 418 is not declared',
      }),
    ]);
  });

  test('when a required declared header is missing or a declared header is malformed, then each is reported', async () => {
    const spec: OpenApiDocument = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/things': {
          get: {
            operationId: 'getThings',
            security: [],
            responses: {
              '200': {
                description: 'ok',
                headers: {
                  'X-Total': { required: true, schema: { type: 'integer', minimum: 0, maximum: 100 } },
                  'X-Cursor': { schema: { type: 'string', maxLength: 4 } },
                },
                content: { 'application/json': { schema: { type: 'object' } } },
              },
            },
          },
        },
      },
    };
    const app = pipelineApp(spec, {
      getThings: async () => ({ status: 200, body: {}, headers: { 'X-Cursor': 'far too long' } }),
    } as unknown as Partial<Handlers>);
    expect((await app.request.get('/things')).status).toBe(200);
    await eventually(() => (violations(app.logs, 'getThings').length === 2 ? true : undefined));
    expect(violations(app.logs, 'getThings')).toEqual([
      expect.objectContaining({
        schema_path: '#/paths/~1things/get/responses/200/headers/X-Total/required',
        violation: 'required header x-total is missing',
      }),
      expect.objectContaining({
        schema_path: '#/paths/~1things/get/responses/200/headers/X-Cursor/schema/maxLength',
        violation: 'header x-cursor must NOT have more than 4 characters',
      }),
    ]);
    expect(await counted(app.metrics, 'getThings', 200)).toBe(1);
  });
});

describe('VALIDATE_RESPONSES parsing', () => {
  const load = (value: string) =>
    loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: 'k'.repeat(20) + 'Zq9!x7Lm3#pR5vT1wY8u',
      VALIDATE_RESPONSES: value,
    });

  test('when it is sample:<share>, then that share is sampled and full validation is off', () => {
    expect(load('sample:0.01')).toMatchObject({ validateResponses: false, responseSampleRate: 0.01 });
    expect(load('sample:1')).toMatchObject({ validateResponses: false, responseSampleRate: 1 });
  });

  test('when it is a boolean, then it switches full validation and samples nothing', () => {
    expect(load('true')).toMatchObject({ validateResponses: true, responseSampleRate: 0 });
    expect(load('false')).toMatchObject({ validateResponses: false, responseSampleRate: 0 });
  });

  test.each(['sample:2', 'sample:x', 'sample:0', 'sample:', 'sample:-0.5', 'maybe'])(
    'when it is %s, then the configuration is refused naming the variable',
    (value) => {
      let error: unknown;
      try {
        load(value);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'VALIDATE_RESPONSES: must be true, false or sample:<share> with a share above 0 and at most 1 (e.g. sample:0.01)',
      ]);
    },
  );
});
