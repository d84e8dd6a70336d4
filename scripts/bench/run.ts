import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LoadJob, LoadRequest, LoadResult } from './load';
import { prepareDatabase, type Fixtures } from './prepare';

/*
 * `make bench`: the load harness of issue 7. It prepares a PostgreSQL benchmark database, starts five servers side
 * by side (the app as shipped, the app without response validation, the same with OpenTelemetry tracing on, a bare
 * node:http + pg baseline, and for the SAMPLED_SCENARIOS the app checking 1% of its responses after sending them
 * with VALIDATE_RESPONSES=sample:0.01), warms every route, then runs each scenario against each server with autocannon in a
 * separate process and prints markdown tables, the same-run ratios and the targets. Non-2xx responses fail the run.
 * Options: --duration=SECONDS (per scenario and server, default 2), --connections=N (default 10),
 * --database=URL (default postgres://postgres@127.0.0.1:5432/bench_api), --bcrypt-rounds=N (default 12, as
 * BCRYPT_ROUNDS), --only=scenario,scenario (a scenario's name, or `paging` for the paging cases alone, which start
 * only the shipped app). The login scenario runs at least LOGIN_MIN_SECONDS.
 */

const ROOT = findRoot(__dirname);
const LOGIN_MIN_SECONDS = 4;
const WARM_LOAD_SECONDS = 1;
const OUT_DIR = path.join(ROOT, 'build', 'bench');

type ServerName = 'app' | 'app-no-response-validation' | 'app-sampled' | 'app-tracing' | 'baseline';
type Server = { name: ServerName; url: string; child: ChildProcess; startupMs: number };
type Scenario = {
  name: string;
  title: string;
  request: (f: Fixtures) => LoadRequest;
  perConnection?: (f: Fixtures) => LoadRequest[];
};
type Summary = {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
};
type Measured = Summary & { peakRssMb: number; cpuUs: number };

const SERVERS: ServerName[] = ['baseline', 'app', 'app-no-response-validation', 'app-sampled', 'app-tracing'];
const SERVER_TITLES: Record<ServerName, string> = {
  app: 'app (shipped)',
  'app-no-response-validation': 'app, response validation off',
  'app-sampled': 'app, 1% of responses checked after sending',
  'app-tracing': 'app, validation off, tracing on',
  baseline: 'bare baseline',
};
// What each server runs: the app-tracing one starts the SDK first, with an exporter that drops the spans.
const SCRIPTS: Record<ServerName, string> = {
  app: 'dist/src/server.js',
  'app-no-response-validation': 'dist/src/server.js',
  'app-sampled': 'dist/src/server.js',
  'app-tracing': 'dist/scripts/bench/traced-server.js',
  baseline: 'dist/scripts/bench/baseline-server.js',
};
// The Node.js flags of the production start command (package.json's `start`), given to every server alike, the
// baseline included, so the bench measures what ships and compares like with like.
const NODE_FLAGS = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));
// The scenarios that also run on the sampled server: what response validation costs per mode, not every route again.
const SAMPLED_SCENARIOS = new Set(['getProduct', 'list20']);
const serversFor = (scenario: Scenario, servers: Server[]) =>
  servers.filter((server) => server.name !== 'app-sampled' || SAMPLED_SCENARIOS.has(scenario.name));
const json = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const SCENARIOS: Scenario[] = [
  { name: 'health', title: 'GET /health', request: () => ({ method: 'GET', path: '/health' }) },
  {
    name: 'getProduct',
    title: 'getProduct',
    request: (f) => ({ method: 'GET', path: `/api/v1/products/${f.productId}` }),
  },
  {
    name: 'list20',
    title: 'listProducts?limit=20',
    request: () => ({ method: 'GET', path: '/api/v1/products?limit=20' }),
  },
  {
    name: 'list20-category',
    title: 'listProducts?category_id&limit=20',
    request: (f) => ({ method: 'GET', path: `/api/v1/products?category_id=${f.categoryId}&limit=20` }),
  },
  {
    name: 'search',
    title: 'listProducts q + category_id + sort',
    request: (f) => ({
      method: 'GET',
      path: `/api/v1/products?q=lantern&category_id=${f.categoryId}&sort=-price_cents&limit=20`,
    }),
  },
  {
    name: 'list1000',
    title: 'listProducts?limit=1000',
    request: () => ({ method: 'GET', path: '/api/v1/products?limit=1000' }),
  },
  {
    name: 'me',
    title: 'getCurrentUser',
    request: (f) => ({ method: 'GET', path: '/api/v1/users/me', headers: bearer(f.tokens[0] ?? '') }),
    perConnection: (f) =>
      f.tokens.map((token) => ({ method: 'GET', path: '/api/v1/users/me', headers: bearer(token) })),
  },
  {
    name: 'createOrder',
    title: 'createOrder (one item)',
    request: (f) => orderRequest(f.tokens[0] ?? '', f.orderProductIds[0] ?? 0),
    // Each connection is its own user buying its own product: no row lock is shared between connections.
    perConnection: (f) => f.tokens.map((token, i) => orderRequest(token, f.orderProductIds[i] ?? 0)),
  },
  {
    name: 'login',
    title: 'login (bcrypt)',
    request: (f) => ({
      method: 'POST',
      path: '/api/v1/auth/login',
      headers: json,
      body: JSON.stringify({ username: f.login.username, password: f.login.password }),
    }),
  },
];

function orderRequest(token: string, productId: number): LoadRequest {
  return {
    method: 'POST',
    path: '/api/v1/orders',
    headers: { ...json, ...bearer(token) },
    body: JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] }),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const duration = Number(args.duration ?? process.env.DURATION ?? 2);
  const connections = Number(args.connections ?? process.env.CONNECTIONS ?? 10);
  const databaseUrl = args.database ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_api';
  const bcryptRounds = Number(args['bcrypt-rounds'] ?? process.env.BCRYPT_ROUNDS ?? 12);
  const only = args.only?.split(',');
  if (!(duration > 0) || !(connections > 0)) throw new Error('--duration and --connections must be positive');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const secretKey = randomBytes(48).toString('base64url');
  const loadBefore = os.loadavg()[0] ?? 0;

  console.log(`preparing ${redactUrl(databaseUrl)}...`);
  const fixtures = await prepareDatabase(databaseUrl, { root: ROOT, secretKey, bcryptRounds, connections });
  const env = { databaseUrl, secretKey, bcryptRounds };
  const servers: Server[] = [];
  const loader = startLoader();
  let failed = false;
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.name));
  try {
    // One at a time, so each start-up time is measured without the others competing for the CPU. The paging cases
    // alone need only the shipped app.
    for (const name of scenarios.length > 0 ? SERVERS : (['app'] as const)) servers.push(await startServer(name, env));
    console.log(`warming ${scenarios.length} routes on ${servers.length} servers...`);
    for (const scenario of scenarios)
      for (const server of serversFor(scenario, servers)) await warm(server, scenario, fixtures);
    // The app builds its validators in the background after start-up: measure only once every server is idle.
    for (const server of servers) await waitUntilIdle(server);

    const results = new Map<string, Measured>();
    let loginHealth: Probe | undefined;
    for (const scenario of scenarios) {
      const active = serversFor(scenario, servers);
      const runs = new Map<ServerName, { results: LoadResult[]; peakRssMb: number; cpuSeconds: number }>();
      const measure = async (server: Server, seconds: number) => {
        resetPeakRss(server);
        const cpuBefore = cpuSeconds(server);
        const job: LoadJob = {
          url: server.url,
          connections,
          durationSeconds: seconds,
          request: scenario.request(fixtures),
          perConnection: scenario.perConnection?.(fixtures),
        };
        const probe = scenario.name === 'login' && server.name === 'app' ? startProbe(`${server.url}/health`) : null;
        const result = await loader.run(job);
        if (probe) loginHealth = await probe.stop();
        const entry = runs.get(server.name) ?? { results: [], peakRssMb: 0, cpuSeconds: 0 };
        entry.results.push(result);
        entry.cpuSeconds += cpuSeconds(server) - cpuBefore;
        entry.peakRssMb = Math.max(entry.peakRssMb, peakRssMb(server));
        runs.set(server.name, entry);
        return result;
      };
      if (scenario.name !== 'login') {
        // Untimed load first: 50 warm-up requests leave V8 compiling the hot paths during the first timed slice,
        // which charges the app (far more JavaScript) much more than the baseline. Measure the steady state.
        for (const server of active) {
          await loader.run({
            url: server.url,
            connections,
            durationSeconds: WARM_LOAD_SECONDS,
            request: scenario.request(fixtures),
            perConnection: scenario.perConnection?.(fixtures),
          });
        }
        for (const server of active) await waitUntilIdle(server);
      }
      if (scenario.name === 'login') {
        // At bcrypt cost 12 a login takes a quarter of a second of a core: one longer run per server.
        for (const server of active) {
          const result = await measure(server, Math.max(duration, LOGIN_MIN_SECONDS));
          // Logins still queued for bcrypt when the run stops would slow the next server down.
          await sleep(Math.min(20_000, Math.max(500, pct(result.latencies, 99))));
        }
      } else {
        // Servers take turns in one-second slices, starting with a different one each round, so a burst of load
        // from elsewhere on the machine falls on all of them alike and the same-run ratios stay fair.
        const rounds = Math.max(1, Math.round(duration));
        for (let round = 0; round < rounds; round += 1) {
          const order = active.map((_, i) => active[(i + round) % active.length] as Server);
          for (const server of order) await measure(server, duration / rounds);
        }
      }
      for (const server of active) {
        const entry = runs.get(server.name);
        if (!entry) continue;
        const summary = summarise(entry.results);
        const cpuUs = summary.requests > 0 ? (entry.cpuSeconds * 1e6) / summary.requests : 0;
        const measured = { ...summary, peakRssMb: entry.peakRssMb, cpuUs };
        results.set(`${scenario.name}/${server.name}`, measured);
        console.log(
          `${scenario.title.padEnd(38)} ${server.name.padEnd(27)} ${measured.rps.toFixed(0).padStart(6)} req/s` +
            `  CPU ${measured.cpuUs.toFixed(0).padStart(5)} µs/req  p50 ${fmt(measured.p50)} ms  p99 ${fmt(measured.p99)} ms  non-2xx ${measured.non2xx}  errors ${measured.errors}`,
        );
        if (measured.non2xx + measured.errors > 0) {
          failed = true;
          console.error(`  unexpected responses: ${JSON.stringify(measured.statusCodes)}`);
        }
      }
    }
    const searchLatency = only ? [] : await measureSearchLatency(loader, servers, fixtures, duration);
    const paging = !only || only.includes('paging') ? await measurePaging(loader, servers, fixtures, duration) : [];
    if (paging.some((p) => p.result.non2xx + p.result.errors > 0)) failed = true;
    const report = renderReport({
      duration,
      connections,
      bcryptRounds,
      loadBefore,
      scenarios,
      results,
      servers,
      loginHealth,
      searchLatency,
      paging,
      failed,
    });
    console.log(`\n${report}`);
    fs.writeFileSync(path.join(OUT_DIR, 'results.md'), report);
    console.log(`written to ${path.relative(ROOT, path.join(OUT_DIR, 'results.md'))}`);
  } finally {
    loader.stop();
    await Promise.all(servers.map(stopServer));
  }
  if (failed) {
    console.error('FAILED: some scenarios had non-2xx responses or errors');
    process.exit(1);
  }
}

// --- servers ---------------------------------------------------------------------------------------------------

async function startServer(
  name: ServerName,
  env: { databaseUrl: string; secretKey: string; bcryptRounds: number },
): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = SCRIPTS[name];
  if (!fs.existsSync(path.join(ROOT, script))) throw new Error(`${script} is missing: run \`make build\` first`);
  const log = fs.openSync(path.join(OUT_DIR, `${name}.log`), 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, script], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    // A clean environment: nothing from the caller's shell (NODE_OPTIONS, a .env's REDIS_URL...) changes a server.
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: env.databaseUrl,
      SECRET_KEY: env.secretKey,
      BCRYPT_ROUNDS: String(env.bcryptRounds),
      LOG_LEVEL: 'info',
      // Every connection calls from one address, far above any real client's rate: the limits still count every
      // request (that cost is measured), they never refuse one.
      RATE_LIMIT_PER_MINUTE: '1000000',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      VALIDATE_RESPONSES: name === 'app' ? 'true' : name === 'app-sampled' ? 'sample:0.01' : 'false',
      // Every request of the traced server makes a trace.
      ...(name === 'app-tracing' ? { OTEL_TRACES_SAMPLER: 'always_on' } : {}),
    },
  });
  fs.closeSync(log);
  await waitForReady(`${url}/health/ready`, child, name);
  const startupMs = performance.now() - started;
  console.log(`${name} ready on ${url} in ${startupMs.toFixed(0)} ms (pid ${child.pid})`);
  return { name, url, child, startupMs };
}

async function waitForReady(url: string, child: ChildProcess, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: see build/bench/${name}.log`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(10);
  }
  throw new Error(`${name} was not ready within ${timeoutMs} ms`);
}

// Polls the server's CPU time until it stays below 5% of a core for two 250 ms windows in a row (deadline 30 s).
async function waitUntilIdle(server: Server): Promise<void> {
  const deadline = Date.now() + 30_000;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    const before = cpuSeconds(server);
    await sleep(250);
    quiet = cpuSeconds(server) - before < 0.0125 ? quiet + 1 : 0;
  }
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// VmHWM is the peak resident set; writing 5 to clear_refs resets it, so each run reports its own peak.
function resetPeakRss(server: Server): void {
  try {
    fs.writeFileSync(`/proc/${server.child.pid}/clear_refs`, '5');
  } catch {
    // Not Linux, or not allowed: the figure is then the peak since start-up.
  }
}

// CPU time (user + system, every thread) of the server process and of any worker processes it forked, in seconds;
// read from /proc, so the load generator's own CPU never counts.
function cpuSeconds(server: Server): number {
  const ticks = Number(process.env.CLK_TCK ?? 100);
  const total = (pid: number): number => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces: utime is 14th, stime 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const own = (Number(fields[11]) + Number(fields[12])) / ticks;
      const children = fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
      return own + children.reduce((sum, child) => sum + total(child), 0);
    } catch {
      return 0;
    }
  };
  return server.child.pid ? total(server.child.pid) : 0;
}

function peakRssMb(server: Server): number {
  try {
    const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

// --- load --------------------------------------------------------------------------------------------------------

type Loader = { run: (job: LoadJob) => Promise<LoadResult>; stop: () => void };

function startLoader(): Loader {
  const file = path.join(__dirname, `load${path.extname(__filename)}`);
  const child = fork(file, [], { stdio: 'inherit', env: { PATH: process.env.PATH ?? '' } });
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.result) waiter?.resolve(message.result);
    else waiter?.reject(new Error(message.error ?? 'load generator failed'));
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`load generator exited with ${code}`));
  });
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, job });
      }),
    stop: () => child.kill(),
  };
}

// Enough sequential requests on every route to compile its validators and warm the JIT before anything is timed.
async function warm(server: Server, scenario: Scenario, fixtures: Fixtures): Promise<void> {
  const count = scenario.name === 'login' ? 2 : 50;
  const variants = scenario.perConnection?.(fixtures) ?? [scenario.request(fixtures)];
  for (let i = 0; i < count; i += 1) {
    const request = variants[i % variants.length] ?? scenario.request(fixtures);
    const res = await fetch(`${server.url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${server.name} answered ${res.status} to ${scenario.name} while warming: ${text.slice(0, 300)}`);
    }
  }
}

type Probe = { samples: number; p50: number; p99: number; max: number };

// A lone client timing GET /health back to back from this process while the login scenario runs.
function startProbe(url: string): { stop: () => Promise<Probe> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timings: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`/health ${res.statusCode}`))));
          })
          .on('error', reject);
      });
      timings.push(performance.now() - started);
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return { samples: timings.length, p50: pct(timings, 50), p99: pct(timings, 99), max: pct(timings, 100) };
    },
  };
}

type SearchLatency = { label: string; server: ServerName; result: Summary };

// Issue 4's figures: q + category_id + sort=-price_cents + limit=20 at skip=0 and skip=50000, one client at a time.
async function measureSearchLatency(
  loader: Loader,
  servers: Server[],
  fixtures: Fixtures,
  duration: number,
): Promise<SearchLatency[]> {
  const cases = [
    { label: 'q=lantern skip=0', q: 'lantern', skip: 0 },
    { label: 'q=everyday skip=0', q: 'everyday', skip: 0 },
    { label: 'q=everyday skip=50000', q: 'everyday', skip: 50_000 },
  ];
  const out: SearchLatency[] = [];
  for (const server of servers.filter((s) => s.name === 'app')) {
    for (const c of cases) {
      const query = `q=${c.q}&category_id=${fixtures.categoryId}&sort=-price_cents&limit=20&skip=${c.skip}`;
      const request: LoadRequest = { method: 'GET', path: `/api/v1/products?${query}` };
      const result = await loader.run({ url: server.url, connections: 1, durationSeconds: duration, request });
      out.push({ label: c.label, server: server.name, result: summarise([result]) });
    }
  }
  return out;
}

const PAGING_LIST = '/api/v1/products?sort=-price_cents&limit=20';
// A superuser's listing holds every product, inactive ones too; the public one the 98,000 active products.
const PAGING_LISTINGS = [
  { who: 'superuser', depth: 99_000 },
  { who: 'public', depth: 97_000 },
] as const;

type PagingLatency = { who: string; depth: number; mode: 'first page' | 'skip' | 'cursor'; result: Summary };

// Paging at depth, for each listing: its first page, the page after `depth` rows by skip, and the same page by
// cursor, one client at a time.
async function measurePaging(
  loader: Loader,
  servers: Server[],
  fixtures: Fixtures,
  duration: number,
): Promise<PagingLatency[]> {
  const app = servers.find((s) => s.name === 'app');
  if (!app) return [];
  const out: PagingLatency[] = [];
  for (const { who, depth } of PAGING_LISTINGS) {
    const headers = who === 'superuser' ? bearer(fixtures.adminToken) : undefined;
    // The cursor of the page after row `depth`: the next_cursor of the page that ends there.
    const res = await fetch(`${app.url}${PAGING_LIST}&skip=${depth - 20}`, { headers });
    const body = (await res.json()) as { next_cursor?: string | null };
    if (res.status !== 200 || !body.next_cursor) {
      throw new Error(`no cursor at depth ${depth} (${who}): ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
    const cases = [
      { mode: 'first page', path: PAGING_LIST },
      { mode: 'skip', path: `${PAGING_LIST}&skip=${depth}` },
      { mode: 'cursor', path: `${PAGING_LIST}&cursor=${encodeURIComponent(body.next_cursor)}` },
    ] as const;
    const requests = cases.map((c) => ({ method: 'GET', path: c.path, headers }) satisfies LoadRequest);
    for (const request of requests) {
      await loader.run({ url: app.url, connections: 1, durationSeconds: WARM_LOAD_SECONDS, request });
    }
    await waitUntilIdle(app);
    // The cases take turns in one-second slices, each round starting with another, as the servers do above.
    const runs: LoadResult[][] = cases.map(() => []);
    const rounds = Math.max(1, Math.round(duration));
    for (let round = 0; round < rounds; round += 1) {
      for (let k = 0; k < cases.length; k += 1) {
        const i = (k + round) % cases.length;
        const request = requests[i] as LoadRequest;
        runs[i]?.push(await loader.run({ url: app.url, connections: 1, durationSeconds: duration / rounds, request }));
      }
    }
    cases.forEach((c, i) => {
      const result = summarise(runs[i] ?? []);
      out.push({ who, depth, mode: c.mode, result });
      console.log(`paging ${who} ${c.mode.padEnd(10)} p50 ${fmt(result.p50)} ms`);
    });
  }
  return out;
}

const pagingLabel = (p: PagingLatency) => (p.mode === 'first page' ? p.mode : `${p.mode} at depth ${p.depth}`);
const firstPageOf = (paging: PagingLatency[], who: string) =>
  paging.find((p) => p.who === who && p.mode === 'first page')?.result;

// --- report ------------------------------------------------------------------------------------------------------

type ReportInput = {
  duration: number;
  connections: number;
  bcryptRounds: number;
  loadBefore: number;
  scenarios: Scenario[];
  results: Map<string, Measured>;
  servers: Server[];
  loginHealth: Probe | undefined;
  searchLatency: SearchLatency[];
  paging: PagingLatency[];
  failed: boolean;
};

function renderReport(input: ReportInput): string {
  const { results } = input;
  const get = (scenario: string, server: ServerName) => results.get(`${scenario}/${server}`);
  const lines: string[] = [];
  lines.push(
    `${input.connections} connections, ${input.duration} s per scenario and server, bcrypt cost ${input.bcryptRounds}; ` +
      `${os.cpus().length} CPUs, load average before the run ${input.loadBefore.toFixed(2)}, after ${os.loadavg()[0]?.toFixed(2)}; ` +
      `Node.js ${process.version}${NODE_FLAGS.length ? ` ${NODE_FLAGS.join(' ')}` : ''} for every server.`,
    '',
    '| scenario | server | req/s | CPU µs/req | p50 ms | p99 ms | non-2xx / errors | peak RSS MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const scenario of input.scenarios) {
    for (const server of SERVERS) {
      const r = get(scenario.name, server);
      if (!r) continue;
      lines.push(
        `| ${scenario.title} | ${SERVER_TITLES[server]} | ${r.rps.toFixed(0)} | ${r.cpuUs.toFixed(0)} | ${fmt(r.p50)} | ` +
          `${fmt(r.p99)} | ${r.non2xx} / ${r.errors} | ${r.peakRssMb.toFixed(0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| scenario | app / baseline CPU per request | app / baseline req/s | app / baseline p99 | response validation on / off CPU | tracing on / off CPU |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const scenario of input.scenarios) {
    const app = get(scenario.name, 'app');
    const base = get(scenario.name, 'baseline');
    const off = get(scenario.name, 'app-no-response-validation');
    const traced = get(scenario.name, 'app-tracing');
    if (!app || !base || !off) continue;
    lines.push(
      `| ${scenario.title} | ${ratio(off.cpuUs, base.cpuUs)} (on: ${ratio(app.cpuUs, base.cpuUs)}) | ` +
        `${ratio(off.rps, base.rps)} (on: ${ratio(app.rps, base.rps)}) | ${ratio(app.p99, base.p99)} | ${ratio(app.cpuUs, off.cpuUs)} | ` +
        `${traced ? ratio(traced.cpuUs, off.cpuUs) : 'n/a'} |`,
    );
  }
  const modes = input.scenarios.filter((s) => SAMPLED_SCENARIOS.has(s.name));
  if (modes.some((s) => get(s.name, 'app-sampled'))) {
    lines.push(
      '',
      'Response validation by mode, CPU µs per request (ratio to off, same run):',
      '',
      '| scenario | off | sampled 1% (after sending) | full (every response, before sending) |',
      '|---|---:|---:|---:|',
    );
    for (const scenario of modes) {
      const off = get(scenario.name, 'app-no-response-validation');
      const sampled = get(scenario.name, 'app-sampled');
      const full = get(scenario.name, 'app');
      if (!off || !sampled || !full) continue;
      lines.push(
        `| ${scenario.title} | ${off.cpuUs.toFixed(0)} | ${sampled.cpuUs.toFixed(0)} (${ratio(sampled.cpuUs, off.cpuUs)}) | ` +
          `${full.cpuUs.toFixed(0)} (${ratio(full.cpuUs, off.cpuUs)}) |`,
      );
    }
  }
  const startup = input.servers.find((s) => s.name === 'app')?.startupMs;
  const rss = Math.max(
    0,
    ...[...results.entries()]
      .filter(([k]) => k.endsWith('/app') || k.endsWith('/app-no-response-validation'))
      .map(([, r]) => r.peakRssMb),
  );
  lines.push('');
  if (input.loginHealth) {
    const h = input.loginHealth;
    const login = get('login', 'app');
    lines.push(
      `During login on the shipped app (${login ? `${login.rps.toFixed(1)} logins/s, p50 ${fmt(login.p50)} ms` : 'n/a'}): ` +
        `GET /health from a separate client, ${h.samples} requests, p50 ${h.p50.toFixed(1)} ms, ` +
        `p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms.`,
      '',
    );
  }
  if (startup !== undefined)
    lines.push(`Start-up of the shipped app to a ready /health/ready: ${startup.toFixed(0)} ms.`, '');
  if (input.searchLatency.length) {
    lines.push(
      'listProducts q + category_id + sort=-price_cents + limit=20, one connection (shipped app):',
      '',
      '| case | requests | p50 ms | p99 ms |',
      '|---|---:|---:|---:|',
    );
    for (const s of input.searchLatency) {
      lines.push(`| ${s.label} | ${s.result.requests} | ${fmt(s.result.p50)} | ${fmt(s.result.p99)} |`);
    }
    lines.push('');
  }
  if (input.paging.length) {
    lines.push(
      `${PAGING_LIST.replace('/api/v1/products?', 'listProducts ')}, one connection (shipped app); a superuser lists all 100,000 products, the public the active ones:`,
      '',
      '| listing | case | requests | p50 ms | p99 ms | p50 / first page |',
      '|---|---|---:|---:|---:|---:|',
    );
    for (const p of input.paging) {
      const first = firstPageOf(input.paging, p.who);
      lines.push(
        `| ${p.who} | ${pagingLabel(p)} | ${p.result.requests} | ${fmt(p.result.p50)} | ${fmt(p.result.p99)} | ` +
          `${first ? ratio(p.result.p50, first.p50) : 'n/a'} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '',
    'Targets. "off" is the app with response validation off (the shipped production default), "on" with it on;',
    'every ratio is against the bare baseline of this same run.',
    '',
    '| target | measured | result |',
    '|---|---|---|',
  );
  const target = (name: string, measured: string, met: boolean | undefined) => {
    if (met !== undefined) lines.push(`| ${name} | ${measured} | ${met ? 'PASS' : 'MISS'} |`);
  };
  const title = (scenario: string) => SCENARIOS.find((s) => s.name === scenario)?.title ?? scenario;
  const cpuTarget = (scenario: string, server: ServerName, limit: number) => {
    const app = get(scenario, server);
    const base = get(scenario, 'baseline');
    if (app && base) {
      const mode = server === 'app' ? 'on' : 'off';
      target(
        `${title(scenario)} (${mode}): CPU per request <= ${limit}x baseline`,
        `${app.cpuUs.toFixed(0)} / ${base.cpuUs.toFixed(0)} µs = ${ratio(app.cpuUs, base.cpuUs)}`,
        app.cpuUs <= limit * base.cpuUs,
      );
    }
  };
  cpuTarget('health', 'app-no-response-validation', 3);
  cpuTarget('getProduct', 'app-no-response-validation', 2.5);
  {
    const app = get('getProduct', 'app-no-response-validation');
    const base = get('getProduct', 'baseline');
    if (app && base)
      target(`getProduct (off): req/s >= 0.5x baseline`, ratio(app.rps, base.rps), app.rps >= 0.5 * base.rps);
  }
  cpuTarget('me', 'app-no-response-validation', 3);
  cpuTarget('list1000', 'app-no-response-validation', 1.2);
  cpuTarget('list1000', 'app', 1.4);
  for (const scenario of ['list20', 'list20-category']) {
    const app = get(scenario, 'app-no-response-validation');
    const base = get(scenario, 'baseline');
    if (app && base)
      target(`${title(scenario)} (off): req/s >= 2x baseline`, ratio(app.rps, base.rps), app.rps >= 2 * base.rps);
  }
  for (const scenario of ['getProduct', 'list20']) {
    const on = get(scenario, 'app');
    const off = get(scenario, 'app-no-response-validation');
    if (on && off) {
      const cost = on.cpuUs / off.cpuUs - 1;
      target(
        `${title(scenario)}: response validation adds <= 20% CPU per request`,
        `${on.cpuUs.toFixed(0)} / ${off.cpuUs.toFixed(0)} µs = +${(cost * 100).toFixed(0)}%`,
        cost <= 0.2,
      );
    }
  }
  if (input.loginHealth) {
    target('/health p99 during login < 20 ms', `${input.loginHealth.p99.toFixed(1)} ms`, input.loginHealth.p99 < 20);
  }
  if (results.size > 0) target('server RSS < 250 MB (both app servers)', `${rss.toFixed(0)} MB`, rss < 250);
  if (startup !== undefined) target('start-up to ready < 2 s', `${startup.toFixed(0)} ms`, startup < 2000);
  for (const s of input.searchLatency.filter((l) => l.label.startsWith('q=everyday'))) {
    const limit = s.label.endsWith('skip=0') ? 15 : 50;
    target(`search ${s.label}: p50 < ${limit} ms`, `${fmt(s.result.p50)} ms`, s.result.p50 < limit);
  }
  for (const p of input.paging.filter((l) => l.mode === 'cursor')) {
    const first = firstPageOf(input.paging, p.who);
    if (first) {
      target(
        `${p.who} listing, page at depth ${p.depth} by cursor: p50 <= 1.5x first page`,
        `${fmt(p.result.p50)} / ${fmt(first.p50)} ms = ${ratio(p.result.p50, first.p50)}`,
        p.result.p50 <= 1.5 * first.p50,
      );
    }
  }
  if (input.failed) lines.push('', 'FAILED: non-2xx responses or errors in a scenario that expects 2xx.');
  return lines.join('\n');
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

// Merges runs exactly: requests over seconds, percentiles over every response time.
function summarise(runs: LoadResult[]): Summary {
  const latencies = runs.flatMap((r) => r.latencies);
  const statusCodes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return {
    requests,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
    statusCodes,
  };
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

// --- helpers -----------------------------------------------------------------------------------------------------

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

function parseArgs(argv: string[]): Record<string, string | undefined> {
  return Object.fromEntries(
    argv.map((arg) => {
      const [key, ...value] = arg.replace(/^--/, '').split('=');
      return [key ?? '', value.join('=')];
    }),
  );
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

function findRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the bench script');
    dir = parent;
  }
  return dir;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//');

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
