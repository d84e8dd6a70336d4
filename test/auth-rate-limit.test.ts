import { createLogger } from '../src/lib/logger';
import { buildUser } from './support/factories';
import { closeRedis, connectRedis, type RedisClient } from '../src/lib/redis';
import { eventually } from './support/eventually';
import { MemoryTransport, startTestApp, testConfig, unique, type TestApp } from './support/test-app';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const LIMITED_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '3' };
const quietLogger = () => createLogger(testConfig(), [new MemoryTransport()]);

const badLogin = (t: TestApp) => t.request.post('/api/v1/auth/login').send({ username: 'nobody', password: 'x' });

function expectRateLimited(res: { status: number; body: Record<string, unknown>; headers: Record<string, string> }) {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ error_code: 'RATE_LIMITED', request_id: res.headers['x-request-id'] });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['ratelimit-policy']).toMatch(/^"auth"; q=3; w=60\b/);
  expect(res.headers.ratelimit).toMatch(/^"auth"; r=0; t=\d+$/);
}

describe('rate limits in memory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: LIMITED_ENV });
  });
  afterAll(async () => {
    await t.close();
  });

  test('when a client exceeds the auth limit, then it is 429 RATE_LIMITED with Retry-After and RateLimit headers', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await badLogin(t)).status);
    expect(statuses).toEqual([401, 401, 401]);
    expectRateLimited(await badLogin(t));
    expectRateLimited(await t.request.post('/api/v1/auth/refresh').send({ refresh_token: 'x' }));
    expectRateLimited(
      await t.request.post('/api/v1/users').send({ email: 'a@example.com', username: 'abc', password: 'x' }),
    );
    expectRateLimited(await t.request.post('/api/v1/auth/logout').send({ refresh_token: 'x' }));
    expectRateLimited(await t.request.post('/api/v1/auth/password-reset/request').send({ email: 'a@example.com' }));
    expectRateLimited(
      await t.request.post('/api/v1/auth/password-reset/confirm').send({ token: 'x', new_password: 'Aa1!aaaa' }),
    );
  });

  test('when the auth limit is exhausted, then other routes are not limited', async () => {
    for (let i = 0; i < 5; i++) await badLogin(t);
    expect((await t.request.get('/health')).status).toBe(200);
    expect((await t.request.get('/api/v1/users/me')).status).toBe(401);
  });
});

describe('rate limits in Redis', () => {
  let redis: RedisClient;
  // The API instances of these tests share one database, as instances behind one load balancer do.
  let base: TestApp;
  const apps: TestApp[] = [];
  const prefixes: string[] = [];
  const start = async (
    prefix: string,
    options: { env?: Record<string, string>; deps?: Partial<TestApp['deps']> } = {},
  ) => {
    prefixes.push(prefix);
    const env = { ...LIMITED_ENV, RATE_LIMIT_REDIS_PREFIX: prefix, ...options.env };
    const app = await startTestApp({ env, deps: { redis, db: base.db, ...options.deps } });
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    base = await startTestApp();
    redis = connectRedis(REDIS_URL, quietLogger());
    // It connects in the background; these tests need it connected before their first request.
    await eventually(() => (redis.isReady ? true : undefined), 10_000, 'Redis never connected');
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await base.close();
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(keys);
    }
    await redis.quit();
  });

  test('when two API processes share Redis, then the limit holds across both and is kept under the prefix', async () => {
    const prefix = `${unique('rl')}:`;
    const [first, second] = [await start(prefix), await start(prefix)];
    expect((await badLogin(first)).status).toBe(401);
    expect((await badLogin(second)).status).toBe(401);
    expect((await badLogin(first)).status).toBe(401);
    expectRateLimited(await badLogin(second));
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
  });

  test('when two app instances share Redis, then a user has one default budget across both, kept under the prefix and the policy', async () => {
    const prefix = `${unique('rl')}:`;
    const env = { RATE_LIMIT_PER_MINUTE: '3' };
    const first = await start(prefix, { env });
    // One database for both, as instances behind one load balancer have.
    const second = await start(prefix, { env, deps: { db: first.deps.db } });
    const user = await buildUser(first);
    const me = (app: TestApp) => app.request.get('/api/v1/users/me').set(user.auth);
    const answers: [number, string][] = [];
    for (const app of [first, second, first, second]) {
      const res = await me(app);
      answers.push([res.status, String(res.headers.ratelimit)]);
    }
    expect(answers).toEqual([
      [200, expect.stringMatching(/^"default"; r=2; t=\d+$/)],
      [200, expect.stringMatching(/^"default"; r=1; t=\d+$/)],
      [200, expect.stringMatching(/^"default"; r=0; t=\d+$/)],
      [429, expect.stringMatching(/^"default"; r=0; t=\d+$/)],
    ]);
    expect(await redis.keys(`${prefix}*`)).toEqual([`${prefix}default:user:${user.id}`]);
  });

  test('when another prefix is used, then its counts are separate', async () => {
    const [first, other] = [await start(`${unique('rl')}:`), await start(`${unique('rl')}:`)];
    for (let i = 0; i < 3; i++) await badLogin(first);
    expectRateLimited(await badLogin(first));
    expect((await badLogin(other)).status).toBe(401);
  });

  test('when Redis is unreachable, then auth requests are served without a limit and a warning is logged', async () => {
    const closed = connectRedis(REDIS_URL, quietLogger());
    await closeRedis(closed);
    const app = await startTestApp({ env: LIMITED_ENV, deps: { redis: closed, db: base.db } });
    apps.push(app);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await badLogin(app)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const logged = app.logs.entries.filter((entry) => entry.level === 'warn').map((entry) => String(entry.message));
    expect(logged).toContainEqual(expect.stringMatching(/error from store, allowing request without rate-limiting/));
    expect(app.logs.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});
