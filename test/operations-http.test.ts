import { createClient } from 'redis';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { ALLOWED_ORIGINS: 'https://shop.example.com, https://admin.example.com' } });
});
afterAll(async () => {
  await t.close();
});

describe('metrics', () => {
  test('when requests were served, then /metrics counts them by operationId, method and status in Prometheus format', async () => {
    await t.request.get('/health');
    const res = await t.request.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/http_requests_total\{operation_id="getHealth",method="GET",status="200"\} [1-9]/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="0\.005",operation_id="getHealth"/);
    expect(res.text).toContain('db_pool_connections_used');
    expect(res.text).toContain('db_pool_acquires_pending');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  test('when unknown URLs are requested, then they share one label value and the raw URL never becomes a label', async () => {
    const path = `/api/v1/${unique('scan')}`;
    await t.request.get(path);
    const res = await t.request.get('/metrics');
    expect(res.text).toContain('operation_id="unmatched",method="GET",status="404"');
    expect(res.text).not.toContain(path);
  });

  test('when METRICS_TOKEN is set, then /metrics needs it as a bearer token', async () => {
    const guarded = await startTestApp({ env: { METRICS_TOKEN: 'scrape-token-0123456789' }, deps: { db: t.db } });
    try {
      const anonymous = await guarded.request.get('/metrics');
      const wrong = await guarded.request.get('/metrics').set('Authorization', 'Bearer scrape-token-0123456780');
      const right = await guarded.request.get('/metrics').set('Authorization', 'Bearer scrape-token-0123456789');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error_code).toBe('NOT_AUTHENTICATED');
      expect(wrong.status).toBe(401);
      expect(right.status).toBe(200);
      expect(right.text).toContain('http_requests_total');
    } finally {
      await guarded.close();
    }
  });
});

describe('hardened HTTP', () => {
  test('when an API response is sent, then it carries the REST security headers, and no X-Powered-By', async () => {
    for (const res of [await t.request.get('/health'), await t.request.get('/api/v1/users/me')]) {
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  test('when a docs page is sent, then it carries the page headers and a CSP for what it loads', async () => {
    const res = await t.request.get('/docs/');
    expect(res.status).toBe(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  test('when an allowed origin sends a preflight, then it is answered with that origin and no credentials', async () => {
    const res = await t.request
      .options('/api/v1/users/me')
      .set('Origin', 'https://shop.example.com')
      .set('Access-Control-Request-Method', 'PATCH')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.example.com');
    expect(res.headers['access-control-allow-methods']).toContain('PATCH');
    expect(res.headers['access-control-allow-headers']).toContain('Authorization');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('when another origin calls, then no CORS header allows it', async () => {
    const res = await t.request.get('/health').set('Origin', 'https://evil.example.net');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('when a form body is sent to a JSON-only operation, then it is 415 and nothing is created', async () => {
    const email = `${unique('form')}@example.com`;
    const res = await t.request
      .post('/api/v1/users')
      .type('form')
      .send({ email, username: unique('form'), password: 'Correct-Horse-9' });
    expect(res.status).toBe(415);
    expect(res.body.error_code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await t.db('users').where({ email }).first()).toBeUndefined();
  });

  test('when a JSON body is sent with a vendor +json type, then it is 415 rather than parsed', async () => {
    const res = await t.request
      .post('/api/v1/users')
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ email: 'x@example.com' }));
    expect(res.status).toBe(415);
  });
});

describe('timeouts', () => {
  test('when a request outlives REQUEST_TIMEOUT_MS, then it gets 503 REQUEST_TIMEOUT instead of a hung socket', async () => {
    // A hash at cost 14 takes well over a second here, so an answer within one second can only be the timeout's,
    // even with other test files busy on the same cores.
    const slow = await startTestApp({ env: { REQUEST_TIMEOUT_MS: '100', BCRYPT_ROUNDS: '14' }, deps: { db: t.db } });
    try {
      const started = Date.now();
      const res = await slow.request.post('/api/v1/auth/login').send({ username: unique('nobody'), password: 'x' });
      expect(res.status).toBe(503);
      expect(res.body.error_code).toBe('REQUEST_TIMEOUT');
      expect(res.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await slow.close();
    }
  });
});

describe('readiness with Redis', () => {
  test('when Redis is configured and answers, then readiness reports it up', async () => {
    const redis = createClient({ url: process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379' });
    await redis.connect();
    const withRedis = await startTestApp({ deps: { redis, db: t.db } });
    try {
      const res = await withRedis.request.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.checks.redis.status).toBe('up');
    } finally {
      await withRedis.close();
      await redis.quit();
    }
  });

  test('when Redis is configured but unreachable, then readiness is still 200 and reports redis down', async () => {
    const redis = createClient({ url: 'redis://127.0.0.1:9' });
    const withDeadRedis = await startTestApp({ deps: { redis, db: t.db } });
    try {
      const res = await withDeadRedis.request.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ready');
      expect(res.body.checks).toMatchObject({ database: { status: 'up' }, redis: { status: 'down' } });
    } finally {
      await withDeadRedis.close();
    }
  });
});
