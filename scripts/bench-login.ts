import 'dotenv/config';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = process.env.BENCH_BCRYPT_ROUNDS ?? '12';
const PASSWORD = 'Bench-Horse-42!';

/**
 * Shows that password hashing stays off the event loop: serves the app in a child process (the build under dist/ when
 * present, else the TypeScript sources) on DATABASE_URL or a fresh embedded database, fires CONCURRENCY concurrent
 * logins at bcrypt cost ROUNDS for SECONDS while a separate loop times GET /health, then prints the /health latency
 * percentiles and the login throughput.
 */
async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? '';
  const dataDir = databaseUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'bench-login-'));
  const built = path.join(ROOT, 'dist', 'src', 'server.js');
  const args = fs.existsSync(built) ? [built] : ['--import', 'tsx', path.join(ROOT, 'src', 'server.ts')];
  const server = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}),
      NODE_ENV: 'production',
      SECRET_KEY: randomBytes(48).toString('base64url'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      BCRYPT_ROUNDS: ROUNDS,
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      DATABASE_URL: databaseUrl,
      ...(dataDir ? { DATA_DIR: dataDir } : {}),
    },
  });
  try {
    await waitForHealth(base);
    const username = `bench${Date.now().toString(36)}`;
    const registered = await post(`${base}/api/v1/users`, {
      email: `${username}@example.com`,
      username,
      password: PASSWORD,
    });
    if (registered.status !== 201) throw new Error(`registration answered ${registered.status}`);
    await login(base, username);

    const deadline = Date.now() + SECONDS * 1000;
    const health: number[] = [];
    const logins: number[] = [];
    let failures = 0;
    const loginLoop = async () => {
      while (Date.now() < deadline) {
        const started = performance.now();
        if (await login(base, username)) logins.push(performance.now() - started);
        else failures += 1;
      }
    };
    const healthLoop = async () => {
      while (Date.now() < deadline) {
        const started = performance.now();
        const res = await fetch(`${base}/health`);
        await res.arrayBuffer();
        health.push(performance.now() - started);
      }
    };
    await Promise.all([healthLoop(), ...Array.from({ length: CONCURRENCY }, loginLoop)]);

    const database = databaseUrl ? 'PostgreSQL' : 'embedded PGlite';
    console.log(`${CONCURRENCY} concurrent logins at bcrypt cost ${ROUNDS} for ${SECONDS} s on ${database}`);
    console.log(
      `GET /health: ${health.length} requests, p50 ${pct(health, 50)} ms, p99 ${pct(health, 99)} ms, max ${pct(health, 100)} ms`,
    );
    console.log(
      `logins: ${logins.length} ok (${(logins.length / SECONDS).toFixed(1)}/s), ${failures} failed, ` +
        `latency p50 ${pct(logins, 50)} ms, p99 ${pct(logins, 99)} ms`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function login(base: string, username: string): Promise<boolean> {
  const res = await post(`${base}/api/v1/auth/login`, { username, password: PASSWORD });
  return res.status === 200;
}

async function post(url: string, body: object): Promise<{ status: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res;
}

function pct(values: number[], p: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0).toFixed(1);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

async function waitForHealth(base: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer /health within ${timeoutMs} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
