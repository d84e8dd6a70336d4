import 'dotenv/config';
import type { AddressInfo } from 'node:net';
import { createDatabase } from '../src/data-access/database';
import { createApp } from '../src/http/app';
import { systemClock } from '../src/lib/clock';
import { ConfigError, loadConfig } from '../src/lib/config';
import { createLogger } from '../src/lib/logger';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const WARMUP = 30;

type Scenario = { name: string; query: Record<string, string> };

/**
 * Times listProducts end to end over HTTP against the app served in this process on the configured database
 * (fill it with `make seed-bench` first): q + category_id + sort=-price_cents + limit=20 at skip=0 and skip=50000,
 * for a selective and a broad search term, printing p50/p99 per case. Response validation is off, as in production.
 */
async function main(): Promise<void> {
  const config = { ...loadConfig({ ...process.env, LOG_LEVEL: 'error' }), validateResponses: false };
  if (config.database.kind !== 'postgres') console.warn('DATABASE_URL is not set: measuring the embedded database');
  const db = createDatabase(config.database);
  const logger = createLogger(config);
  const server = createApp({ config, db, logger, clock: systemClock, lifecycle: { isDraining: () => false } }).listen(
    0,
  );
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/products`;
  try {
    const categoryId = await biggestCategory(db);
    const [products] = await db('products').count({ n: '*' });
    console.log(`products: ${Number(products?.n)}, category_id ${categoryId}, ${RUNS} runs after ${WARMUP} warm-up`);
    const scenarios: Scenario[] = [];
    for (const q of [process.env.BENCH_Q ?? 'lantern', 'everyday']) {
      for (const skip of [0, 50_000]) {
        const query = { q, category_id: String(categoryId), sort: '-price_cents', limit: '20', skip: String(skip) };
        scenarios.push({ name: `q=${q} skip=${skip}`, query });
      }
    }
    for (const scenario of scenarios) await run(base, scenario);
  } finally {
    server.close();
    await db.destroy();
  }
}

async function biggestCategory(db: ReturnType<typeof createDatabase>): Promise<number> {
  const row = (await db('products')
    .select('category_id')
    .count({ n: '*' })
    .whereNotNull('category_id')
    .groupBy('category_id')
    .orderBy('n', 'desc')
    .first()) as { category_id: number } | undefined;
  if (!row) throw new Error('no products with a category: run `make seed-bench` first');
  return Number(row.category_id);
}

async function run(base: string, scenario: Scenario): Promise<void> {
  const url = `${base}?${new URLSearchParams(scenario.query)}`;
  const timings: number[] = [];
  let total = 0;
  for (let i = 0; i < WARMUP + RUNS; i += 1) {
    const started = process.hrtime.bigint();
    const res = await fetch(url);
    const body = (await res.json()) as { total: number; items: unknown[] };
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    if (i >= WARMUP) timings.push(ms);
    total = body.total;
  }
  timings.sort((a, b) => a - b);
  const pct = (p: number) =>
    (timings[Math.min(timings.length - 1, Math.floor((p / 100) * timings.length))] ?? 0).toFixed(1);
  console.log(`${scenario.name.padEnd(28)} matches ${String(total).padStart(6)}  p50 ${pct(50)} ms  p99 ${pct(99)} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
