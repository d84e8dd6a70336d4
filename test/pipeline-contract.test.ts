import http from 'node:http';
import zlib from 'node:zlib';
import { listOperations, loadSpec } from '../src/http/binding/spec';
import { buildProduct, buildUser } from './support/factories';
import { loadFuzzOperations, contractProblems } from './support/openapi-fuzz';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const OPERATIONS = loadFuzzOperations();
const ERROR_FORM = {
  error_code: expect.stringMatching(/^[A-Z][A-Z0-9_]*$/),
  message: expect.any(String),
  timestamp: expect.any(String),
  request_id: expect.any(String),
};

// Sends a request exactly as given: no normalisation of the path, a raw body with the given headers.
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const url = new URL(t.url);
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('routes and methods outside the spec', () => {
  test.each(['/nope', '/api/v1/nope', '/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/missing.js'])(
    'when %s is asked for, then it is 404 NOT_FOUND in the error format',
    async (path) => {
      const res = await raw('GET', path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(res.text)).toEqual({ ...ERROR_FORM, error_code: 'NOT_FOUND' });
    },
  );

  test('when a known path is asked with a method it does not list, then it is 405 with Allow', async () => {
    const res = await t.request.delete('/health');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body).toEqual({ ...ERROR_FORM, error_code: 'METHOD_NOT_ALLOWED' });
    const products = await t.request.put('/api/v1/products');
    expect(products.status).toBe(405);
    expect(products.headers.allow).toBe('GET, POST, HEAD');
  });

  test('when the docs pages are asked for, then they are still served', async () => {
    expect((await t.request.get('/docs/')).status).toBe(200);
    expect((await t.request.get('/docs/swagger-ui-bundle.js')).status).toBe(200);
    expect((await t.request.get('/redoc')).status).toBe(200);
  });
});

describe('unknown query parameters', () => {
  // One rule everywhere, probes included: an unknown parameter is refused, never silently ignored.
  test.each(listOperations(loadSpec()).filter((op) => op.method === 'get' && !op.path.includes('{')))(
    'when $operationId gets an unknown query parameter, then it answers 422 VALIDATION_ERROR naming it',
    async (op) => {
      const user = await buildUser(t, { isSuperuser: true });
      const res = await t.request.get(`${op.path}?foo=bar`).set(user.auth);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({
        error_code: 'VALIDATION_ERROR',
        details: [{ location: 'query', path: '/foo' }],
      });
    },
  );

  test('when deleteCurrentUser gets an unknown query parameter, then it answers 422 and deletes nothing', async () => {
    const user = await buildUser(t);
    const res = await t.request.delete('/api/v1/users/me?foo=bar').set(user.auth);
    expect(res.status).toBe(422);
    expect(await t.db('users').where({ id: user.id }).first()).toBeDefined();
  });
});

describe('HEAD', () => {
  const gets = OPERATIONS.filter((op) => op.method === 'get');

  test.each(gets.map((op) => [op.operationId, op] as const))(
    'when %s is asked with HEAD, then it answers the status and headers of GET with no body',
    async (_id, op) => {
      const admin = await buildUser(t, { isSuperuser: true });
      const product = await buildProduct(t);
      const path = op.path.replace(/\{[^}]+\}/g, (name) =>
        name === '{user_id}' ? String(admin.id) : String(product.id),
      );
      const get = await raw('GET', path, admin.auth);
      const head = await raw('HEAD', path, admin.auth);
      expect(head.status).toBe(get.status);
      expect(head.text).toBe('');
      // The metrics text changes between the two requests (it counts them), readiness reports the latency of its
      // checks (9 ms, then 10 ms), and a listing on the PostgreSQL run shows rows that test files running beside
      // this one add in between, so their lengths may differ.
      const same = ['content-type', 'etag', 'cache-control', 'content-security-policy'];
      const changing = ['getMetrics', 'getReadiness'].includes(op.operationId) || op.operationId.startsWith('list');
      if (!changing) same.push('content-length');
      for (const name of same) {
        expect(head.headers[name]).toBe(get.headers[name]);
      }
      const logged = t.logs.entries.filter(
        (e) => e.message === 'request' && e.request_id === head.headers['x-request-id'],
      );
      expect(logged).toMatchObject([{ method: 'HEAD', operation_id: op.operationId, status: head.status }]);
    },
  );
});

describe('bodies that cannot be read', () => {
  const withBody = OPERATIONS.filter((op) => op.body?.media.some((m) => m.type === 'application/json'));
  const encodings: [string, (b: Buffer) => Buffer][] = [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ];

  test.each(withBody.flatMap((op) => encodings.map(([enc]) => [op.operationId, enc, op] as const)))(
    'when %s gets a corrupt %s body, then it answers a documented 400 MALFORMED_JSON',
    async (_id, encoding, op) => {
      const admin = await buildUser(t, { isSuperuser: true });
      const path = op.path.replace(/\{[^}]+\}/g, '1');
      const compress = encodings.find(([e]) => e === encoding)?.[1] as (b: Buffer) => Buffer;
      // A valid stream cut in half, then garbage: no decoder can read it.
      const valid = compress(Buffer.from(JSON.stringify({ a: 'x'.repeat(200) })));
      const corrupt = Buffer.concat([valid.subarray(0, valid.length >> 1), Buffer.from('not compressed at all')]);
      const res = await raw(
        op.method.toUpperCase(),
        path,
        { ...admin.auth, 'Content-Type': 'application/json', 'Content-Encoding': encoding },
        corrupt,
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ error_code: 'MALFORMED_JSON' });
      expect(
        contractProblems(
          op,
          { status: res.status, headers: new Headers(res.headers as Record<string, string>), text: res.text },
          true,
        ),
      ).toEqual([]);
    },
  );

  test('when a body comes in an encoding the server does not know, then it is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await raw(
      'POST',
      '/api/v1/auth/login',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' },
      Buffer.from('{}'),
    );
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text)).toMatchObject({ error_code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});
