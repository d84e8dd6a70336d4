import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { VALID_PASSWORD } from './support/factories';
import {
  createScratchDatabase,
  freePort,
  request,
  startProcess,
  startServer,
  waitForOutput,
  waitForPort,
  type Reply,
  type ServerProcess,
} from './support/processes';
import { migratedDataDir } from './support/pglite-template';
import { unique } from './support/test-app';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'api-data-'));
const SECRET = 'hunter2-not-for-logs';
// Far longer than a drain should take, so a drain that waits for it is plain to see.
const SHUTDOWN_TIMEOUT_MS = '30000';
const DRAIN_DELAY_MS = 3_000;
// NODE_ENV=test: no validator warm-up in the background, which on a busy machine can hold the event loop for longer
// than the delay and leave the clients' connections unaccepted when the listener closes.
// A generous READINESS_TIMEOUT_MS: the probe's database ping must not time out on a busy machine before the signal.
const DRAIN_ENV = {
  NODE_ENV: 'test',
  SHUTDOWN_DELAY_MS: String(DRAIN_DELAY_MS),
  SHUTDOWN_TIMEOUT_MS,
  READINESS_TIMEOUT_MS: '10000',
};

/** Two workers on a scratch database of their own (no idle pool connections held, so it can be dropped). */
async function startCluster(env: Record<string, string>) {
  const database = await createScratchDatabase();
  const server = startServer({ DATABASE_URL: database.url, WEB_CONCURRENCY: '2', DB_POOL_MIN: '0', ...env });
  return { database, server };
}

/** Start-up failed with exactly one line of its own saying `message`, and no stack trace. */
function expectOneLineFailure(output: string, message: string) {
  const lines = output.split('\n').filter((line) => line.includes(message));
  expect(lines).toHaveLength(1);
  expect(output).not.toMatch(/^\s+at /m);
}

type Outcome = { path: string; sentWhileDraining: boolean; reply?: Reply; error?: string };

/**
 * Clients that each send requests one after another, on keep-alive connections or one connection per request,
 * until one of them is sent after the drain began (or a deadline passes).
 */
async function client(
  url: string,
  keepAlive: boolean,
  draining: () => boolean,
  sent: { count: number; readyBeforeDrain: number },
) {
  const agent = new http.Agent({ keepAlive, maxSockets: 1 });
  const route = new URL(url).pathname;
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + 20_000;
  try {
    while (Date.now() < deadline && !outcomes.some((o) => o.sentWhileDraining)) {
      const sentWhileDraining = draining();
      sent.count++;
      try {
        const reply = await request(url, { agent });
        if (!sentWhileDraining && reply.status === 200 && route === '/health/ready') sent.readyBeforeDrain++;
        outcomes.push({ path: route, sentWhileDraining, reply });
      } catch (err) {
        outcomes.push({ path: route, sentWhileDraining, error: String((err as Error).message) });
        break;
      }
    }
  } finally {
    agent.destroy();
  }
  return outcomes;
}

/** Sends SIGTERM in the middle of steady traffic, then checks every reply and how soon the process exited. */
async function drainUnderLoad(server: ServerProcess, base: string, processes: number) {
  // Once the test has read the drain line of every serving process, each request it sends is sent while draining.
  const draining = () => (server.output().match(/SIGTERM received: draining/g) ?? []).length >= processes;
  const readyBy = Date.now() + 30_000;
  while ((await request(`${base}/health/ready`, { agent: new http.Agent() })).status !== 200) {
    if (Date.now() > readyBy) throw new Error(`never ready:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const sent = { count: 0, readyBeforeDrain: 0 };
  const clients = [
    ...Array.from({ length: 16 }, () => client(`${base}/health`, true, draining, sent)),
    ...Array.from({ length: 4 }, () => client(`${base}/health`, false, draining, sent)),
    client(`${base}/health/ready`, true, draining, sent),
    client(`${base}/health/ready`, false, draining, sent),
  ];
  const deadline = Date.now() + 10_000;
  // Steady traffic, and readiness seen at 200 by the clients themselves, before the signal: a worker's first
  // readiness check opens its first database connection and can still be running when the signal comes.
  while ((sent.count < 200 || sent.readyBeforeDrain === 0) && Date.now() < deadline)
    await new Promise((r) => setImmediate(r));
  const signalledAt = Date.now();
  server.child.kill('SIGTERM');
  const outcomes = (await Promise.all(clients)).flat();
  const code = await server.exited;
  const exitedAfter = Date.now() - signalledAt;

  expect(outcomes.filter((o) => o.error)).toEqual([]);
  expect(outcomes.filter((o) => o.path === '/health' && o.reply?.status !== 200)).toEqual([]);
  expect(outcomes.filter((o) => o.path === '/health/ready' && ![200, 503].includes(o.reply?.status ?? 0))).toEqual([]);
  const whileDraining = outcomes.filter((o) => o.sentWhileDraining);
  expect(whileDraining).toHaveLength(clients.length);
  expect(whileDraining.filter((o) => o.reply?.connection !== 'close')).toEqual([]);
  expect(whileDraining.filter((o) => o.path === '/health/ready' && o.reply?.status !== 503)).toEqual([]);
  expect(outcomes.some((o) => o.path === '/health/ready' && o.reply?.status === 200)).toBe(true);
  expect(code).toBe(0);
  expect(exitedAfter).toBeLessThan(DRAIN_DELAY_MS + 5_000);
  expect(server.output()).not.toContain('shutdown timeout reached');
}

describe('the server process', () => {
  test('when the configuration is invalid, then it exits non-zero naming the variable', async () => {
    const server = startServer({ NODE_ENV: 'production' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('SECRET_KEY: is required in production');
  });

  test('when started on the embedded database, then it migrates, serves /health and keeps its data under DATA_DIR', async () => {
    const dataDir = tempDir();
    const server = startServer({ DATA_DIR: dataDir });
    try {
      const port = await waitForPort(server);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'healthy' });
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when SIGTERM arrives while a request body is still arriving, then readiness is 503 and connections are accepted for SHUTDOWN_DELAY_MS, refused after it, and the request completes with Connection: close before the process exits 0', async () => {
    const dataDir = migratedDataDir();
    const server = startServer({ DATA_DIR: dataDir, SHUTDOWN_DELAY_MS: '2000', SHUTDOWN_TIMEOUT_MS });
    try {
      const base = `http://127.0.0.1:${await waitForPort(server)}`;
      const user = { email: `${unique('drain')}@example.com`, username: unique('drain'), password: VALID_PASSWORD };
      const body = JSON.stringify(user);
      // The request's headers and the start of its body are on the wire before the signal; the rest comes after.
      const req = http.request(`${base}/api/v1/users`, {
        method: 'POST',
        agent: new http.Agent(),
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      });
      const pending = new Promise<Reply>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
        });
        req.on('error', reject);
      });
      await new Promise((resolve) => req.write(body.slice(0, 10), resolve));
      server.child.kill('SIGTERM');
      await waitForOutput(server, /SIGTERM received: draining/);
      const ready = await request(`${base}/health/ready`, { agent: new http.Agent() });
      expect(ready).toMatchObject({ status: 503, connection: 'close' });
      expect(JSON.parse(ready.body)).toMatchObject({
        error_code: 'SERVICE_UNAVAILABLE',
        message: 'Not ready: shutting down.',
      });

      await waitForOutput(server, /stopped accepting connections/);
      await expect(request(`${base}/health`, { agent: new http.Agent() })).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
      req.end(body.slice(10));
      const created = await pending;
      const answeredAt = Date.now();
      expect(created).toMatchObject({ status: 201, connection: 'close' });
      expect(JSON.parse(created.body)).toMatchObject({ email: user.email, username: user.username });
      expect(await server.exited).toBe(0);
      expect(Date.now() - answeredAt).toBeLessThan(5_000);
      expect(server.output()).toContain('"message":"shut down"');
      expect(server.output()).not.toContain('shutdown timeout reached');
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when many keep-alive and one-shot clients send requests around SIGTERM, then none is reset, every reply is 200 (readiness 503 once draining) with Connection: close while draining, and it exits 0 right after the delay', async () => {
    const dataDir = migratedDataDir();
    const server = startServer({ DATA_DIR: dataDir, ...DRAIN_ENV });
    try {
      await drainUnderLoad(server, `http://127.0.0.1:${await waitForPort(server)}`, 1);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when WEB_CONCURRENCY=2 and clients send requests around SIGTERM, then none is reset, every reply is 200 (readiness 503 once draining) with Connection: close while draining, and it exits 0 right after the delay', async () => {
    const { database, server } = await startCluster(DRAIN_ENV);
    try {
      await waitForOutput(server, /listening[\s\S]*listening/, 60_000);
      await drainUnderLoad(server, `http://127.0.0.1:${await waitForPort(server)}`, 2);
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });

  test('when PORT is taken, then it exits non-zero with one line naming the port', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    const dataDir = migratedDataDir();
    try {
      const server = startServer({ DATA_DIR: dataDir, PORT: String(port) });
      expect(await server.exited).toBe(1);
      expectOneLineFailure(server.output(), `PORT ${port} is already in use on 127.0.0.1`);
    } finally {
      taken.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when PORT is taken and WEB_CONCURRENCY=2, then the primary says so once and exits non-zero without restarting workers', async () => {
    const database = await createScratchDatabase();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    const server = startServer({ DATABASE_URL: database.url, WEB_CONCURRENCY: '2', PORT: String(port) });
    try {
      expect(await server.exited).toBe(1);
      expectOneLineFailure(server.output(), `PORT ${port} is already in use on 127.0.0.1`);
      expect(server.output()).not.toContain('worker died');
    } finally {
      server.child.kill('SIGKILL');
      taken.close();
      await database.drop();
    }
  });

  test.each(['silent', 'message'])(
    'when both workers exit with the start-up failure code (%s), then the primary exits 1 at once, says why once and starts no replacement',
    async (failure) => {
      const primary = startProcess('test/support/supervised-workers.ts', { WORKER_FAILURE: failure });
      try {
        expect(await primary.exited).toBe(1);
        expect(primary.output()).not.toContain('worker died');
        expect(primary.output()).toContain('started 2 workers');
        if (failure === 'message') expectOneLineFailure(primary.output(), 'PORT 1 is already in use');
        else expect(primary.output()).toContain('a worker could not start: stopping');
      } finally {
        primary.child.kill('SIGKILL');
      }
    },
  );

  const badDatabases: [string, () => Promise<string>, RegExp][] = [
    [
      'nothing listens on its port',
      async () => `postgres://postgres:${SECRET}@127.0.0.1:${await freePort()}/postgres`,
      /ECONNREFUSED/,
    ],
    [
      'its database does not exist',
      async () => `postgres://postgres:${SECRET}@127.0.0.1:5432/${unique('nodb')}`,
      /database "nodb\w+" does not exist/,
    ],
    [
      'its role does not exist',
      async () => `postgres://${unique('norole')}:${SECRET}@127.0.0.1:5432/postgres`,
      /role "norole\w+" does not exist/,
    ],
  ];
  test.each(badDatabases)(
    'when DATABASE_URL is set but %s, then it exits non-zero with one line naming DATABASE_URL without its password, and the reason',
    async (_case, databaseUrl, reason) => {
      const url = await databaseUrl();
      const server = startServer({ DATABASE_URL: url });
      expect(await server.exited).toBe(1);
      expectOneLineFailure(server.output(), `cannot connect to DATABASE_URL ${url.replace(SECRET, '***')}: `);
      expect(server.output()).toMatch(reason);
      expect(server.output()).not.toContain(SECRET);
    },
  );

  test('when WEB_CONCURRENCY=2, then two workers share the port, a killed worker is replaced, and SIGTERM stops all with exit 0', async () => {
    const { database, server } = await startCluster({ READINESS_TIMEOUT_MS: DRAIN_ENV.READINESS_TIMEOUT_MS });
    try {
      await waitForOutput(server, /listening[\s\S]*listening/, 60_000);
      const pids = [...server.output().matchAll(/listening[^\n]*"pid":(\d+)/g)].map((m) => Number(m[1]));
      expect(new Set(pids).size).toBe(2);
      const port = Number(server.output().match(/"port":(\d+)/)?.[1]);

      process.kill(pids[0] as number, 'SIGKILL');
      await waitForOutput(server, /worker died: starting a replacement/);
      await waitForOutput(server, /listening[\s\S]*listening[\s\S]*listening/);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });
});
