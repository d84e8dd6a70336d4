import express from 'express';
import supertest from 'supertest';
import { findProductById } from '../src/data-access/products-repository';
import { createPipeline, notFound } from '../src/http/binding/pipeline';
import { listOperations, loadSpec, type OpenApiDocument } from '../src/http/binding/spec';
import { errorHandler } from '../src/http/errors/error-handler';
import { createLogger } from '../src/lib/logger';
import { buildProduct, buildUser, tokenFor, type TestUser } from './support/factories';
import { ManualClock, MemoryTransport, startTestApp, unique, type TestApp } from './support/test-app';

// replaceProduct (PUT) is deprecated in favour of updateProduct (PATCH) in the spec, with these dates.
const DEPRECATED_AT = '2026-12-07';
const SUNSET = '2027-06-30';
const epoch = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

const replacement = (overrides: Record<string, unknown> = {}) => ({
  name: unique('Skillet '),
  description: 'Cast iron.',
  price_cents: 4499,
  currency: 'EUR',
  stock: 5,
  category_id: null,
  is_active: true,
  ...overrides,
});

const deprecationLogs = (t: TestApp) => t.logs.entries.filter((e) => e.message === 'deprecated API used');

async function metric(t: TestApp, name: string, labels: string): Promise<number> {
  const res = await t.request.get('/metrics');
  const line = res.text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a deprecated operation (replaceProduct)', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await buildUser(t, { isSuperuser: true });
  });
  afterAll(async () => {
    await t.close();
  });

  test('when it is called, then it still works and answers Deprecation, Sunset and Link from the spec', async () => {
    const product = await buildProduct(t);
    const body = replacement();
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(admin.auth).send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, name: body.name, price_cents: 4499 });
    expect((await findProductById(t.db, product.id))?.name).toBe(body.name);
    expect(res.headers.deprecation).toBe(`@${epoch(DEPRECATED_AT)}`);
    expect(res.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    expect(res.headers.link).toBe('</docs#/products/replaceProduct>; rel="deprecation"; type="text/html"');
  });

  test('when its replacement updateProduct gets every field, then it makes the same change without deprecation headers', async () => {
    const product = await buildProduct(t);
    const body = replacement();
    const res = await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, ...body });
    expect(res.headers.deprecation).toBeUndefined();
    expect(res.headers.sunset).toBeUndefined();
    expect(res.headers.link).toBeUndefined();
  });

  test('when it answers an error its response does not declare the headers for, then they are not sent', async () => {
    const res = await t.request.put('/api/v1/products/2147483647').set(admin.auth).send(replacement());
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('PRODUCT_NOT_FOUND');
    expect(res.headers.deprecation).toBeUndefined();
  });

  test('when the same user calls it twice in a day, then both calls are counted and the user is logged once', async () => {
    const caller = await buildUser(t, { isSuperuser: true });
    const product = await buildProduct(t);
    const before = await metric(t, 'deprecated_calls_total', 'operation_id="replaceProduct",shape="operation"');
    for (let i = 0; i < 2; i++)
      expect((await t.request.put(`/api/v1/products/${product.id}`).set(caller.auth).send(replacement())).status).toBe(
        200,
      );
    expect(await metric(t, 'deprecated_calls_total', 'operation_id="replaceProduct",shape="operation"')).toBe(
      before + 2,
    );
    const mine = deprecationLogs(t).filter((e) => e.user_id === caller.id);
    expect(mine).toEqual([
      expect.objectContaining({
        level: 'info',
        operation_id: 'replaceProduct',
        shape: 'operation',
        deprecated_at: `${DEPRECATED_AT}T00:00:00.000Z`,
        sunset: `${SUNSET}T00:00:00.000Z`,
      }),
    ]);
  });

  test('when the same user calls it again the next day, then they are logged again', async () => {
    const caller = await buildUser(t, { isSuperuser: true });
    const product = await buildProduct(t);
    await t.request.put(`/api/v1/products/${product.id}`).set(caller.auth).send(replacement());
    t.clock.advance(24 * 3600 * 1000);
    // The first token has expired by then: a fresh one, signed at the new time.
    const fresh = { Authorization: `Bearer ${tokenFor(t, caller.id)}` };
    expect((await t.request.put(`/api/v1/products/${product.id}`).set(fresh).send(replacement())).status).toBe(200);
    const again = await buildUser(t, { isSuperuser: true });
    await t.request.put(`/api/v1/products/${product.id}`).set(again.auth).send(replacement());
    expect(deprecationLogs(t).filter((e) => e.user_id === caller.id)).toHaveLength(2);
    expect(deprecationLogs(t).filter((e) => e.user_id === again.id)).toHaveLength(1);
  });

  test('when the sunset has passed but ENFORCE_SUNSET is off, then it keeps answering', async () => {
    t.clock.advance(Date.parse(`${SUNSET}T00:00:00Z`) - t.clock.now().getTime() + 1000);
    const caller = await buildUser(t, { isSuperuser: true });
    const product = await buildProduct(t);
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(caller.auth).send(replacement());
    expect(res.status).toBe(200);
    expect(res.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
  });
});

describe('ENFORCE_SUNSET=true', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ env: { ENFORCE_SUNSET: 'true' } });
    admin = await buildUser(t, { isSuperuser: true });
  });
  afterAll(async () => {
    await t.close();
  });

  test('when the sunset is still ahead, then the operation answers as usual', async () => {
    t.clock.advance(Date.parse(`${SUNSET}T00:00:00Z`) - t.clock.now().getTime() - 1000);
    const caller = await buildUser(t, { isSuperuser: true });
    const product = await buildProduct(t);
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(caller.auth).send(replacement());
    expect(res.status).toBe(200);
  });

  test('when the sunset date has come, then it is 410 GONE with the headers and nothing changes', async () => {
    t.clock.advance(Date.parse(`${SUNSET}T00:00:00Z`) - t.clock.now().getTime());
    const product = await buildProduct(t);
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(admin.auth).send(replacement());
    expect(res.status).toBe(410);
    expect(res.body).toMatchObject({
      error_code: 'GONE',
      message: `replaceProduct was retired on ${SUNSET}; see /docs#/products/replaceProduct.`,
      request_id: res.headers['x-request-id'],
    });
    expect(res.headers.deprecation).toBe(`@${epoch(DEPRECATED_AT)}`);
    expect(res.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    expect(res.headers.link).toContain('rel="deprecation"');
    expect((await findProductById(t.db, product.id))?.name).toBe(product.name);
  });

  test('when a retired operation is called without credentials, then it is still 410 rather than 401', async () => {
    const res = await t.request.put('/api/v1/products/1').send(replacement());
    expect(res.status).toBe(410);
    expect(res.body.error_code).toBe('GONE');
  });

  test('when its replacement is called after the sunset, then it answers as usual', async () => {
    const product = await buildProduct(t);
    const auth = { Authorization: `Bearer ${tokenFor(t, admin.id)}` };
    const res = await t.request.patch(`/api/v1/products/${product.id}`).set(auth).send({ stock: 3 });
    expect(res.status).toBe(200);
    expect(res.body.stock).toBe(3);
  });
});

test('when the spec is read, then the deprecated operation declares its headers and 410 where they are sent', () => {
  const op = (loadSpec().paths['/api/v1/products/{product_id}']?.put ?? {}) as Record<string, unknown>;
  const responses = op.responses as Record<string, { headers?: Record<string, unknown>; $ref?: string }>;
  expect(op).toMatchObject({ deprecated: true, 'x-deprecated-at': DEPRECATED_AT, 'x-sunset': SUNSET });
  expect(Object.keys(responses['200']?.headers ?? {})).toEqual(
    expect.arrayContaining(['Deprecation', 'Sunset', 'Link']),
  );
  expect(responses['410']?.$ref).toBe('#/components/responses/Gone');
});

describe('deprecated parameters', () => {
  const headers = {
    Deprecation: { schema: { type: 'string', maxLength: 24 } },
    Sunset: { schema: { type: 'string', maxLength: 40 } },
    Link: { schema: { type: 'string', maxLength: 2048 } },
  };
  const error = { description: 'error', content: { 'application/json': { schema: { type: 'object' } } } };
  const spec = (overrides: Record<string, unknown> = {}): OpenApiDocument => ({
    openapi: '3.1.0',
    info: { title: 'lifecycle', version: '1' },
    paths: {
      '/things': {
        get: {
          operationId: 'listThings',
          tags: ['things'],
          security: [],
          parameters: [
            {
              name: 'page',
              in: 'query',
              deprecated: true,
              'x-deprecated-at': '2026-01-01',
              'x-sunset': '2027-03-01',
              schema: { type: 'integer', minimum: 1, maximum: 100 },
            },
            {
              name: 'X-Legacy-Format',
              in: 'header',
              deprecated: true,
              'x-deprecated-at': '2026-06-01T12:00:00Z',
              'x-deprecation-link': 'https://example.com/changelog#legacy-format',
              schema: { type: 'string', maxLength: 10 },
            },
            { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 100 } },
          ],
          responses: {
            '200': { description: 'ok', headers, content: { 'application/json': { schema: { type: 'object' } } } },
            '410': { ...error, description: 'gone', headers },
            '422': error,
          },
          ...overrides,
        },
      },
    },
  });
  const logs = new MemoryTransport();
  const logger = createLogger({ logLevel: 'debug', logFormat: 'json' }, [logs]);
  const clock = new ManualClock(new Date('2026-12-07T12:00:00Z'));
  const app = (doc: OpenApiDocument, enforceSunset = false) =>
    supertest(
      express()
        .use(
          createPipeline({
            spec: doc,
            handlers: { listThings: async () => ({ status: 200, body: { things: [] } }) },
            authenticate: async () => undefined,
            logger,
            maxBodyBytes: 1024,
            validateResponses: false,
            requestTimeoutMs: 5000,
            clock,
            enforceSunset,
          }),
        )
        .use(notFound())
        .use(errorHandler(logger)),
    );

  test('when a request uses no deprecated parameter, then no deprecation header is sent', async () => {
    const res = await app(spec()).get('/things?cursor=abc');
    expect(res.status).toBe(200);
    expect(res.headers.deprecation).toBeUndefined();
  });

  test('when a request uses a deprecated query parameter, then its dates and the operation docs link are sent', async () => {
    const res = await app(spec()).get('/things?page=2');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      deprecation: `@${epoch('2026-01-01')}`,
      sunset: 'Mon, 01 Mar 2027 00:00:00 GMT',
      link: '</docs#/things/listThings>; rel="deprecation"; type="text/html"',
    });
  });

  test('when a request sends a deprecated header, then its own date and link are sent, and no Sunset', async () => {
    const res = await app(spec()).get('/things').set('X-Legacy-Format', 'v1');
    expect(res.headers.deprecation).toBe(`@${Date.parse('2026-06-01T12:00:00Z') / 1000}`);
    expect(res.headers.sunset).toBeUndefined();
    expect(res.headers.link).toBe('<https://example.com/changelog#legacy-format>; rel="deprecation"; type="text/html"');
  });

  test('when a request uses two deprecated parameters, then the one with a sunset is announced', async () => {
    const res = await app(spec()).get('/things?page=1').set('X-Legacy-Format', 'v1');
    expect(res.headers.sunset).toBe('Mon, 01 Mar 2027 00:00:00 GMT');
    const used = logs.entries.filter((e) => e.message === 'deprecated API used' && e.operation_id === 'listThings');
    expect(used.map((e) => e.shape)).toEqual(expect.arrayContaining(['query.page', 'header.X-Legacy-Format']));
  });

  test('when a deprecated parameter is past its sunset and sunsets are enforced, then using it is 410 and leaving it out is not', async () => {
    const enforced = app(spec(), true);
    clock.advance(Date.parse('2027-03-01T00:00:00Z') - clock.now().getTime());
    const gone = await enforced.get('/things?page=2');
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({
      error_code: 'GONE',
      message: 'The query parameter page of listThings was retired on 2027-03-01; see /docs#/things/listThings.',
    });
    expect(gone.headers.sunset).toBe('Mon, 01 Mar 2027 00:00:00 GMT');
    expect((await enforced.get('/things?cursor=abc')).status).toBe(200);
  });

  test.each([
    [{ deprecated: true }, 'GET /things: deprecated without x-deprecated-at'],
    [{ 'x-sunset': '2027-01-01' }, 'GET /things: x-deprecated-at or x-sunset without deprecated: true'],
    [{ deprecated: true, 'x-deprecated-at': '7 December 2026' }, 'x-deprecated-at must be an RFC 3339 date'],
    [
      { deprecated: true, 'x-deprecated-at': '2027-01-01', 'x-sunset': '2026-01-01' },
      'x-sunset is earlier than x-deprecated-at',
    ],
    [
      { deprecated: true, 'x-deprecated-at': '2026-01-01', responses: { '200': { description: 'ok' }, '410': error } },
      'GET /things: its 200 response must declare Deprecation, Link, Sunset (it is deprecated)',
    ],
    [
      { responses: { '200': { description: 'ok', headers } } },
      'GET /things: it has an x-sunset but does not declare 410',
    ],
  ])('when the spec marks a deprecation inconsistently (%j), then the binding refuses it', (overrides, message) => {
    expect(() => listOperations(spec(overrides))).toThrow(message);
  });
});
