import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { compiledEntry } from './build';
import { throughPooler } from './pooler';
import { unique } from './test-app';

const ROOT = path.resolve(__dirname, '../..');

export type ServerProcess = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** Starts `src/server.ts` in a child process with only the given environment (plus PATH), capturing its output. */
export function startServer(env: Record<string, string>): ServerProcess {
  return startProcess('src/server.ts', env);
}

// Node's arguments for an entry point: compiled when the build has it, as in production; tsx only when a `.ts` is left.
function nodeArguments(entry: string, nodeOptions: string[] = []): string[] {
  const args = [...nodeOptions, compiledEntry(entry)];
  return args.some((arg) => arg.endsWith('.ts')) ? ['--import', 'tsx', ...args] : args;
}

/**
 * Starts an entry point (see nodeArguments) in a child process with only the given environment (plus PATH, and no
 * statement timeout of its own behind the pooler), capturing its output; `nodeOptions` go before the entry point,
 * `ipc` opens a message channel to it.
 */
export function startProcess(
  entry: string,
  env: Record<string, string>,
  options: { nodeOptions?: string[]; ipc?: boolean } = {},
): ServerProcess {
  let output = '';
  const child = spawn(process.execPath, nodeArguments(entry, options.nodeOptions), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: '0',
      // Tests of processes, not of the cache: the default 128 MB of shared buffers is ~0.5 s of CPU to set up.
      EMBEDDED_SHARED_BUFFERS: '8MB',
      ...(throughPooler ? { DB_STATEMENT_TIMEOUT_MS: '0' } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until the output matches, returning the match. */
export async function waitForOutput(
  server: ServerProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = server.output().match(pattern);
    if (match) return match;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${pattern} in output:\n${server.output()}`);
}

/** Waits for the "listening" log line and returns the port; a fresh embedded database takes long on a busy machine. */
export async function waitForPort(server: ServerProcess): Promise<number> {
  return Number((await waitForOutput(server, /"port":(\d+)/, 60_000))[1]);
}

const ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates a throwaway PostgreSQL database for tests that need one server shared by several processes. It is created
 * and dropped over ADMIN_URL; `url` reaches it the way TEST_DATABASE_URL goes (through the pooler when that does).
 */
export async function createScratchDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = unique('scratch').toLowerCase();
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.TEST_DATABASE_URL ?? ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs one statement on PostgreSQL directly (ADMIN_URL, never through a pooler), optionally in another database. */
export async function adminQuery<Row extends object = Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
  database?: string,
): Promise<Row[]> {
  const url = new URL(ADMIN_URL);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A port nothing listens on: bound once by this process, then released. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export type Reply = { status: number; connection: string | undefined; body: string };

/** One HTTP request over the given agent (its own connection pool), resolving with the status and `Connection`. */
export function request(
  url: string,
  options: { agent: http.Agent; method?: string; body?: string } = { agent: new http.Agent() },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { agent: options.agent, method: options.method ?? 'GET', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
