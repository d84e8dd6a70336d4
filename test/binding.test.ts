import express from 'express';
import supertest from 'supertest';
import { errorHandler } from '../src/http/errors/error-handler';
import { RouteTable } from '../src/http/binding/operation-table';
import { createPipeline, notFound } from '../src/http/binding/pipeline';
import { notImplemented, type Handlers } from '../src/http/binding/operations';
import { listOperations, loadSpec, type OpenApiDocument } from '../src/http/binding/spec';
import { createLogger } from '../src/lib/logger';
import { MemoryTransport } from './support/test-app';

const doc = (paths: OpenApiDocument['paths']): OpenApiDocument => ({
  openapi: '3.1.0',
  security: [{ BearerAuth: [] }],
  paths,
});

describe('reading operations from the spec', () => {
  test('when operations declare security, then access is public, optional, user or superuser', () => {
    const ops = listOperations(
      doc({
        '/a/{a_id}': {
          get: { operationId: 'pub', security: [] },
          post: { operationId: 'opt', security: [{}, { BearerAuth: [] }] },
          put: { operationId: 'usr' },
          delete: { operationId: 'adm', 'x-required-role': 'superuser' },
        },
      }),
    );
    expect(ops.map((o) => [o.operationId, o.method, o.expressPath, o.access])).toEqual([
      ['pub', 'get', '/a/:a_id', 'public'],
      ['usr', 'put', '/a/:a_id', 'user'],
      ['opt', 'post', '/a/:a_id', 'optional'],
      ['adm', 'delete', '/a/:a_id', 'superuser'],
    ]);
  });

  test('when a literal path and a templated path overlap, then the literal one is listed first', () => {
    const ops = listOperations(
      doc({
        '/u/{id}': { get: { operationId: 'byId' } },
        '/u/me': { get: { operationId: 'me' } },
        '/u': { get: { operationId: 'all' } },
      }),
    );
    const order = ops.map((o) => o.operationId);
    expect(order.indexOf('me')).toBeLessThan(order.indexOf('byId'));
  });

  test('when an operation lacks an operationId or has a bad role marker, then reading the spec fails', () => {
    expect(() => listOperations(doc({ '/x': { get: {} } }))).toThrow('GET /x has no operationId');
    expect(() => listOperations(doc({ '/x': { get: { operationId: 'x', 'x-required-role': 'admin' } } }))).toThrow(
      'unknown x-required-role',
    );
    expect(() =>
      listOperations(doc({ '/x': { get: { operationId: 'x', security: [], 'x-required-role': 'superuser' } } })),
    ).toThrow('x-required-role on a public operation');
  });

  test('when two operations share an operationId, then reading the spec fails', () => {
    expect(() =>
      listOperations(doc({ '/x': { get: { operationId: 'x' } }, '/y': { get: { operationId: 'x' } } })),
    ).toThrow('GET /y repeats operationId x');
  });
});

describe('binding handlers', () => {
  const logger = createLogger({ logLevel: 'error', logFormat: 'json' }, [new MemoryTransport()]);
  const app = (handlers: Partial<Handlers>) =>
    express()
      .use(
        createPipeline({
          spec: loadSpec(),
          handlers,
          authenticate: async () => undefined,
          logger,
          rateLimiters: { default: (_req, _res, next) => next(), auth: (_req, _res, next) => next() },
          maxBodyBytes: 1024,
          validateResponses: false,
          requestTimeoutMs: 5000,
        }),
      )
      .use(notFound())
      .use(errorHandler(logger));

  test('when an operation is marked notImplemented, then it answers 501 NOT_IMPLEMENTED in the error format', async () => {
    const res = await supertest(app({ getHealth: notImplemented })).get('/health');
    expect(res.status).toBe(501);
    expect(res.body).toMatchObject({ error_code: 'NOT_IMPLEMENTED', message: 'getHealth is not implemented yet.' });
  });

  test('when a handler replies with headers and no body, then the status and headers are sent as is', async () => {
    const res = await supertest(
      app({ getHealth: async () => ({ status: 200, headers: { 'X-Test': 'yes' } }) as never }),
    ).get('/health');
    expect(res.status).toBe(200);
    expect(res.headers['x-test']).toBe('yes');
    expect(res.text).toBe('');
  });

  test('when an x-rate-limit policy has no limiter, then building the pipeline fails', () => {
    expect(() =>
      createPipeline({
        spec: loadSpec(),
        handlers: {},
        authenticate: async () => undefined,
        logger,
        maxBodyBytes: 1024,
        validateResponses: false,
        requestTimeoutMs: 5000,
      }),
    ).toThrow('no limiter for x-rate-limit "auth"');
  });
});

describe('the route table', () => {
  type Op = { path: string; method: 'get' | 'post' | 'delete'; id: string };
  const table = new RouteTable<Op>([
    { path: '/u/{id}', method: 'get', id: 'byId' },
    { path: '/u/me', method: 'get', id: 'me' },
    { path: '/u/me', method: 'delete', id: 'deleteMe' },
    { path: '/u', method: 'post', id: 'create' },
  ]);
  const idOf = (method: string, path: string) => {
    const found = table.find(method, path);
    return found.kind === 'operation' ? [found.operation.id, found.params] : [found.kind];
  };

  test('when a literal and a templated path both match, then the literal one wins', () => {
    expect(idOf('GET', '/u/me')).toEqual(['me', {}]);
    expect(idOf('GET', '/u/42')).toEqual(['byId', { id: '42' }]);
  });

  test('when a path parameter is percent-encoded, then it is decoded, and bad encoding throws URIError', () => {
    expect(idOf('GET', '/u/a%20b')).toEqual(['byId', { id: 'a b' }]);
    expect(() => table.find('GET', '/u/%E0%A4%A')).toThrow(URIError);
  });

  test('when HEAD asks for a GET route, then it finds the GET operation', () => {
    expect(idOf('HEAD', '/u/me')).toEqual(['me', {}]);
  });

  test('when the path exists without the method, then the lookup lists the allowed methods', () => {
    expect(table.find('PUT', '/u/me')).toEqual({ kind: 'method-not-allowed', allow: 'GET, DELETE, HEAD' });
    expect(table.find('GET', '/u')).toEqual({ kind: 'method-not-allowed', allow: 'POST' });
  });

  test('when no path matches, then nothing is found; a trailing slash is tolerated', () => {
    expect(idOf('GET', '/nope')).toEqual(['not-found']);
    expect(idOf('GET', '/u/me/')).toEqual(['me', {}]);
    expect(idOf('GET', '/u/1/2')).toEqual(['not-found']);
  });
});
