import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { eventually } from './support/eventually';
import { createScratchDatabase, freePort, startServer, waitForPort, type ServerProcess } from './support/processes';
import { unique } from './support/test-app';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

let database: Awaited<ReturnType<typeof createScratchDatabase>>;
let ipCounter = 0;
const running: { servers: ServerProcess[]; redis: ChildProcess[] } = { servers: [], redis: [] };

// Each request speaks from its own client address (trusted X-Forwarded-For), so rate-limit counts do not mix.
const clientIp = () => `203.0.113.${++ipCounter}`;
const login = (base: string, ip: string) =>
  fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': ip },
    body: JSON.stringify({ username: unique('nobody'), password: 'wrong-password' }),
  });
const readiness = async (base: string) =>
  (await (await fetch(`${base}/health/ready`)).json()) as { status: string; checks: { redis?: { status: string } } };

/** A real Redis on its own port, so that it can be frozen or started late without touching the shared one. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  running.redis.push(child);
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: 50 } });
  client.on('error', () => undefined);
  await client.connect();
  await client.quit();
  return child;
}

async function startApp(redisPort: number): Promise<{ base: string; server: ServerProcess }> {
  const server = startServer({
    DATABASE_URL: database.url,
    DB_POOL_MIN: '0',
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    RATE_LIMIT_REDIS_PREFIX: `${unique('rl')}:`,
    AUTH_RATE_LIMIT_PER_MINUTE: '3',
    TRUST_PROXY: 'loopback',
    BCRYPT_ROUNDS: '4',
    // A request held past this would answer 503 REQUEST_TIMEOUT instead of the login's own 401.
    REQUEST_TIMEOUT_MS: '5000',
    SECRET_KEY: 'redis-faults-secret-0123456789abcdef',
  });
  running.servers.push(server);
  return { base: `http://127.0.0.1:${await waitForPort(server)}`, server };
}

beforeAll(async () => {
  database = await createScratchDatabase();
});

afterAll(async () => {
  for (const redis of running.redis) {
    redis.kill('SIGCONT');
    redis.kill('SIGKILL');
  }
  for (const server of running.servers) server.child.kill('SIGKILL');
  await Promise.all(running.servers.map((s) => s.exited));
  await database.drop();
}, 30_000);

describe('Redis faults', () => {
  test('when Redis is down at start, then the server serves unlimited logins, stays ready, and limits once Redis is up', async () => {
    const redisPort = await freePort();
    const { base } = await startApp(redisPort);

    expect(await readiness(base)).toMatchObject({ status: 'ready', checks: { redis: { status: 'down' } } });
    const ip = clientIp();
    const unlimited: number[] = [];
    for (let i = 0; i < 5; i++) unlimited.push((await login(base, ip)).status);
    expect(unlimited).toEqual([401, 401, 401, 401, 401]);

    await startRedis(redisPort);
    await eventually(
      async () => ((await readiness(base)).checks.redis?.status === 'up' ? true : undefined),
      20_000,
      'the server never reported Redis up',
    );
    const limitedIp = clientIp();
    const limited: number[] = [];
    for (let i = 0; i < 4; i++) limited.push((await login(base, limitedIp)).status);
    expect(limited).toEqual([401, 401, 401, 429]);
  });

  test('when Redis freezes, then logins fail open within the command timeout, with a warning and a metric', async () => {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    const { base, server } = await startApp(redisPort);
    const ip = clientIp();
    expect((await login(base, ip)).status).toBe(401);

    redis.kill('SIGSTOP');
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login(base, clientIp())).status);
      // Not 503 REQUEST_TIMEOUT: each limiter call gave up on Redis and let the login through.
      expect(statuses).toEqual([401, 401, 401, 401]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(Number(/^rate_limit_store_errors_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
      expect(server.output()).toMatch(/"level":"warn".*error from store|error from store.*"level":"warn"/);
      expect(await readiness(base)).toMatchObject({ status: 'ready', checks: { redis: { status: 'down' } } });
    } finally {
      redis.kill('SIGCONT');
    }
  });
});
