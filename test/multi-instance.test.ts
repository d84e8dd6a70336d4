import { VALID_PASSWORD } from './support/factories';
import { createScratchDatabase, startServer, waitForPort, type ServerProcess } from './support/processes';
import { unique } from './support/test-app';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

let database: Awaited<ReturnType<typeof createScratchDatabase>>;
let servers: ServerProcess[] = [];
let a: string;
let b: string;
let ipCounter = 0;

// Each test speaks from its own client address (trusted X-Forwarded-For), so rate-limit counts do not mix.
const clientIp = () => `198.51.100.${++ipCounter}`;
const post = (base: string, path: string, body: unknown, ip: string) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': ip },
    body: JSON.stringify(body),
  });

async function register(ip: string) {
  const user = { email: `${unique('multi')}@example.com`, username: unique('multi'), password: VALID_PASSWORD };
  const res = await post(a, '/api/v1/users', user, ip);
  expect(res.status).toBe(201);
  return user;
}

beforeAll(async () => {
  database = await createScratchDatabase();
  const env = {
    DATABASE_URL: database.url,
    DB_POOL_MIN: '0',
    REDIS_URL: process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379',
    RATE_LIMIT_REDIS_PREFIX: `${unique('rl')}:`,
    AUTH_RATE_LIMIT_PER_MINUTE: '6',
    MAX_FAILED_LOGINS: '2',
    TRUST_PROXY: 'loopback',
    BCRYPT_ROUNDS: '4',
    SECRET_KEY: 'shared-secret-of-both-instances-0123456789',
  };
  servers = [startServer(env), startServer(env)];
  const ports = await Promise.all(servers.map(waitForPort));
  [a, b] = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string];
});

afterAll(async () => {
  for (const server of servers) server.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await database.drop();
}, 30_000);

describe('two instances sharing PostgreSQL and Redis', () => {
  test('when one client calls both instances, then the login rate limit counts requests on both', async () => {
    const ip = clientIp();
    const statuses: number[] = [];
    for (const base of [a, b, a, b, a, b, a]) {
      const res = await post(base, '/api/v1/auth/login', { username: 'nobody-here', password: 'x' }, ip);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });

  test('when a refresh token is rotated on one instance, then the other refuses it as spent', async () => {
    const ip = clientIp();
    const user = await register(ip);
    const login = await post(a, '/api/v1/auth/login', { username: user.username, password: user.password }, ip);
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const rotated = await post(a, '/api/v1/auth/refresh', { refresh_token }, ip);
    expect(rotated.status).toBe(200);
    const replayed = await post(b, '/api/v1/auth/refresh', { refresh_token }, ip);
    expect(replayed.status).toBe(401);
  });

  test('when an account is locked through one instance, then the other refuses it even with the right password', async () => {
    const ip = clientIp();
    const user = await register(ip);
    for (let i = 0; i < 2; i++)
      await post(a, '/api/v1/auth/login', { username: user.username, password: 'Wrong-Pass-1' }, ip);
    const res = await post(b, '/api/v1/auth/login', { username: user.username, password: user.password }, ip);
    expect(res.status).toBe(423);
    expect(((await res.json()) as { error_code: string }).error_code).toBe('ACCOUNT_LOCKED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
