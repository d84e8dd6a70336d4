import express from 'express';
import supertest from 'supertest';
import { accessRouter, operationRouter } from '../src/http/bind-operations';
import { errorHandler } from '../src/http/error-handler';
import { notImplemented, type Handlers } from '../src/http/operations';
import { listOperations, loadSpec, type OpenApiDocument } from '../src/http/spec';
import { requestId } from '../src/http/request-context';
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
  const ops = listOperations(loadSpec()).filter((o) => o.operationId === 'getHealth');
  const app = (handlers: Partial<Handlers>) =>
    express()
      .use(requestId())
      .use(accessRouter(ops, async () => undefined))
      .use(operationRouter(ops, handlers as Handlers))
      .use(errorHandler(createLogger({ logLevel: 'error', logFormat: 'json' }, [new MemoryTransport()])));

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
});
