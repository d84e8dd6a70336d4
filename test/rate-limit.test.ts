import type { Response } from 'supertest';
import { listOperations, loadSpec } from '../src/http/binding/spec';
import { loadConfig } from '../src/lib/config';
import { buildUser } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

// Every client address is trusted from X-Forwarded-For, so each test speaks from addresses of its own.
const LIMITED_ENV = { RATE_LIMIT_PER_MINUTE: '3', AUTH_RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'loopback' };
let ipCounter = 0;
const clientIp = () => `192.0.2.${++ipCounter}`;

const PARTITION_KEY = 'pk=:[A-Za-z0-9+/]+=*:';

/** The remaining quota of the one policy that counted a response, after checking its `RateLimit-Policy`. */
function remaining(res: Response, policy: string, quota: number): number {
  expect(res.headers['ratelimit-policy']).toMatch(new RegExp(`^"${policy}"; q=${quota}; w=60; ${PARTITION_KEY}$`));
  const match = new RegExp(`^"${policy}"; r=(\\d+); t=(\\d+)$`).exec(String(res.headers.ratelimit));
  expect(match).not.toBeNull();
  expect(Number(match?.[2])).toBeLessThanOrEqual(60);
  return Number(match?.[1]);
}

function expectRateLimited(res: Response, policy: string, quota: number) {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error_code: 'RATE_LIMITED',
    message: 'Too many requests; retry later.',
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    request_id: res.headers['x-request-id'],
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(remaining(res, policy, quota)).toBe(0);
}

describe('rate-limit policies, counted in memory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: LIMITED_ENV });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (ip: string, auth: Record<string, string>) =>
    t.request.get('/api/v1/users/me').set('X-Forwarded-For', ip).set(auth);
  const products = (ip: string) => t.request.get('/api/v1/products?limit=1').set('X-Forwarded-For', ip);

  test('when nothing is configured, then a caller gets 1000 requests a minute and 20 to the auth operations', () => {
    const { rateLimit } = loadConfig({ NODE_ENV: 'test' });
    expect([rateLimit.perMinute, rateLimit.authPerMinute]).toEqual([1000, 20]);
  });

  test('when a user exceeds the limit, then it is 429 RATE_LIMITED for that user only, not for another user on the same IP', async () => {
    const ip = clientIp();
    const [alice, bob] = [await buildUser(t), await buildUser(t)];
    const left: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await me(ip, alice.auth);
      expect([res.status, res.body.id]).toEqual([200, alice.id]);
      left.push(remaining(res, 'default', 3));
    }
    expect(left).toEqual([2, 1, 0]);
    expectRateLimited(await me(ip, alice.auth), 'default', 3);

    const other = await me(ip, bob.auth);
    expect([other.status, other.body.id, remaining(other, 'default', 3)]).toEqual([200, bob.id, 2]);
    const anonymous = await products(ip);
    expect([anonymous.status, remaining(anonymous, 'default', 3)]).toEqual([200, 2]);
  });

  test('when an anonymous client exceeds the limit, then its IP is limited and another IP is not', async () => {
    const [ip, otherIp] = [clientIp(), clientIp()];
    for (let i = 0; i < 3; i++) expect((await products(ip)).status).toBe(200);
    expectRateLimited(await products(ip), 'default', 3);
    // Every operation of the policy shares the caller's budget.
    expectRateLimited(await t.request.get('/api/v1/categories').set('X-Forwarded-For', ip), 'default', 3);

    const other = await products(otherIp);
    expect([other.status, remaining(other, 'default', 3)]).toEqual([200, 2]);
  });

  test('when requests are refused for their token, then they count for the client IP and the limit answers 429 before 401', async () => {
    const ip = clientIp();
    const forged = { Authorization: 'Bearer not-a-token' };
    for (let i = 0; i < 3; i++) {
      const res = await me(ip, forged);
      expect([res.status, res.body.error_code]).toEqual([401, 'INVALID_TOKEN']);
      expect(remaining(res, 'default', 3)).toBe(2 - i);
    }
    expectRateLimited(await me(ip, forged), 'default', 3);
    expectRateLimited(await products(ip), 'default', 3);
  });

  test('when the probes are polled past the limit, then they are never limited and carry no RateLimit headers', async () => {
    const ip = clientIp();
    for (const path of ['/health', '/health/ready', '/metrics']) {
      for (let i = 0; i < 5; i++) {
        const res = await t.request.get(path).set('X-Forwarded-For', ip);
        expect(res.status).toBe(200);
        expect([res.headers.ratelimit, res.headers['ratelimit-policy']]).toEqual([undefined, undefined]);
      }
    }
    expect((await products(ip)).status).toBe(200);
  });

  test('when the auth limit is exhausted, then the auth operations answer 429 under the auth policy and the default budget is untouched', async () => {
    const ip = clientIp();
    const login = () =>
      t.request.post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ username: 'nobody', password: 'x' });
    const first = await login();
    expect([first.status, remaining(first, 'auth', 2)]).toEqual([401, 1]);
    expect((await login()).status).toBe(401);
    expectRateLimited(await login(), 'auth', 2);
    expectRateLimited(
      await t.request.post('/api/v1/auth/refresh').set('X-Forwarded-For', ip).send({ refresh_token: 'x' }),
      'auth',
      2,
    );

    // Auth requests are counted by the auth policy instead of the default one, not by both.
    const res = await products(ip);
    expect([res.status, remaining(res, 'default', 3)]).toEqual([200, 2]);
  });

  test.each(['default', 'auth'])(
    'when a client is over the %s limit, then every operation of that policy answers 429 RATE_LIMITED',
    async (policy) => {
      const ip = clientIp();
      const operations = listOperations(loadSpec()).filter((op) => op.rateLimit === policy);
      expect(operations.length).toBeGreaterThan(policy === 'auth' ? 5 : 25);
      const send = (op: (typeof operations)[number]) =>
        t.request[op.method as 'get'](op.path.replace(/\{[^}]+\}/g, '1')).set('X-Forwarded-For', ip);
      // Whatever the first answer, it spends the budget; a protected operation counts the IP's requests too.
      const quota = policy === 'auth' ? 2 : 3;
      for (let i = 0; i < quota; i++) await send(operations[0] as (typeof operations)[number]);
      for (const op of operations) {
        const res = await send(op);
        expect({ operationId: op.operationId, status: res.status }).toEqual({
          operationId: op.operationId,
          status: 429,
        });
        expectRateLimited(res, policy, quota);
      }
    },
  );
});
