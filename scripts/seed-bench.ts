import 'dotenv/config';
import { randomBytes } from 'node:crypto';
import { SingleBar, Presets } from 'cli-progress';
import type { Knex } from 'knex';
import { DataDirInUseError } from '../src/data-access/data-dir-lock';
import { createDatabase, migrateLatest } from '../src/data-access/database';
import { hashPassword } from '../src/domain/users/passwords';
import { ConfigError, loadConfig } from '../src/lib/config';

const USERS = 1_000;
const ORDERS = 10_000;
const CATEGORIES = 20;
const PRODUCT_BATCH = 10_000;
const ADJECTIVES = ['Classic', 'Compact', 'Sturdy', 'Handmade', 'Modern', 'Rustic', 'Light', 'Deluxe'];
const NOUNS = ['skillet', 'kettle', 'spade', 'planter', 'atlas', 'novel', 'lamp', 'speaker', 'charger', 'clock'];
const MORE_NOUNS = ['tent', 'backpack', 'lantern', 'bottle', 'blanket', 'mug', 'chair', 'table', 'shelf', 'rug'];

const sqlArray = (values: string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(', ')}]`;

/**
 * Fills the configured database with N products (default 100,000) in 20 categories, 1,000 users and 10,000 orders
 * of two items each, with INSERT ... SELECT over generate_series in batches. Each run adds rows under its own tag.
 * Category 1 of a run holds 60% of its products, so deep pages of one category exist; 90% of descriptions say
 * "everyday", and names combine 8 adjectives with 20 nouns.
 */
async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? process.env.N ?? 100_000);
  if (!Number.isInteger(n) || n < 2 || n > 10_000_000) throw new Error('N must be an integer from 2 to 10000000');
  const config = loadConfig();
  const db = createDatabase(config.database);
  const tag = `bench-${Date.now().toString(36)}`;
  const bar = new SingleBar(
    { format: '{task} [{bar}] {percentage}% | {value}/{total} rows | {duration}s' },
    Presets.shades_classic,
  );
  try {
    await migrateLatest(db);
    bar.start(n + USERS + ORDERS, 0, { task: 'products' });
    const categoryIds = await insertCategories(db, tag);
    const firstProduct = await insertProducts(db, n, categoryIds, (rows) => bar.increment(rows, { task: 'products' }));
    const userIds = await insertUsers(db, tag, config.auth.bcryptRounds);
    bar.increment(USERS, { task: 'users' });
    await insertOrders(db, userIds, firstProduct, n, (rows) => bar.increment(rows, { task: 'orders' }));
    bar.update({ task: 'analyze' });
    await db.raw('VACUUM ANALYZE categories, products, users, orders, order_items');
    bar.stop();
    console.log(
      `${tag}: ${n} products in ${CATEGORIES} categories (ids ${categoryIds.join(', ')}), ${USERS} users, ${ORDERS} orders`,
    );
  } finally {
    bar.stop();
    await db.destroy();
  }
}

async function insertCategories(db: Knex, tag: string): Promise<number[]> {
  const rows = Array.from({ length: CATEGORIES }, (_, i) => ({
    name: `Bench ${i + 1} (${tag})`,
    slug: `${tag}-${i + 1}`,
    description: `Benchmark category ${i + 1}.`,
  }));
  const inserted = (await db('categories').insert(rows).returning('id')) as { id: number }[];
  return inserted.map((row) => Number(row.id));
}

// Returns the id of the first product of this run; a run's products have consecutive ids.
async function insertProducts(
  db: Knex,
  n: number,
  categoryIds: number[],
  progress: (rows: number) => void,
): Promise<number> {
  const [big, ...others] = categoryIds;
  let firstId = 0;
  for (let start = 1; start <= n; start += PRODUCT_BATCH) {
    const end = Math.min(n, start + PRODUCT_BATCH - 1);
    const result = await db.raw(
      `INSERT INTO products (name, description, price_cents, currency, stock, category_id, is_active)
       SELECT adjectives[1 + g % 8] || ' ' || nouns[1 + (g / 8) % 20] || ' ' || g,
              CASE WHEN g % 10 = 0 THEN 'Limited edition, made in small numbers.'
                   ELSE 'Durable and simple, for everyday use.' END,
              99 + (g::bigint * 7919) % 100000,
              'EUR',
              (g::bigint * 31) % 100,
              CASE WHEN g % 10 < 6 THEN ${Number(big)} ELSE (${sqlArray(others.map(String))}::int[])[1 + g % ${others.length}] END,
              g % 50 <> 0
       FROM generate_series(?::int, ?::int) AS g,
            (SELECT ${sqlArray(ADJECTIVES)} AS adjectives, ${sqlArray([...NOUNS, ...MORE_NOUNS])} AS nouns) AS words
       RETURNING id`,
      [start, end],
    );
    const ids = (result.rows as { id: number }[]).map((row) => Number(row.id));
    if (start === 1) firstId = Math.min(...ids);
    progress(end - start + 1);
  }
  return firstId;
}

// One bcrypt hash of a random password for all: bench users exist to own orders, not to log in.
async function insertUsers(db: Knex, tag: string, bcryptRounds: number): Promise<number[]> {
  const hash = await hashPassword(randomBytes(24).toString('base64url'), bcryptRounds);
  const result = await db.raw(
    `INSERT INTO users (email, username, full_name, hashed_password)
     SELECT ? || '-' || g || '@example.com', ? || '-' || g, 'Bench User ' || g, ?
     FROM generate_series(1, ?::int) AS g
     RETURNING id`,
    [tag, tag, hash, USERS],
  );
  return (result.rows as { id: number }[]).map((row) => Number(row.id));
}

// Each order takes two neighbouring products of this run at catalog prices; totals are summed in SQL.
async function insertOrders(
  db: Knex,
  userIds: number[],
  firstProduct: number,
  n: number,
  progress: (rows: number) => void,
): Promise<void> {
  const statuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
  const batch = 2_000;
  for (let start = 1; start <= ORDERS; start += batch) {
    const end = Math.min(ORDERS, start + batch - 1);
    await db.transaction(async (tx) => {
      const inserted = await tx.raw(
        `INSERT INTO orders (user_id, status, currency, created_at, updated_at)
         SELECT (?::int[])[1 + (g * 7) % ?], (?::text[])[1 + g % 5], 'EUR',
                now() - (g % 365) * interval '1 day', now() - (g % 365) * interval '1 day'
         FROM generate_series(?::int, ?::int) AS g
         RETURNING id`,
        [userIds, userIds.length, statuses, start, end],
      );
      const orderIds = (inserted.rows as { id: number }[]).map((row) => Number(row.id));
      await tx.raw(
        `INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity)
         SELECT o.id, p.id, p.name, p.price_cents, 1 + o.id % 3
         FROM unnest(?::int[]) AS o(id)
         JOIN products p ON p.id IN (?::int + (o.id::bigint * 7919) % (?::int - 1), ?::int + (o.id::bigint * 7919) % (?::int - 1) + 1)`,
        [orderIds, firstProduct, n, firstProduct, n],
      );
      await tx.raw(
        `UPDATE orders SET total_cents = t.total
         FROM (SELECT order_id, sum(line_total_cents) AS total FROM order_items WHERE order_id = ANY(?::int[]) GROUP BY order_id) t
         WHERE orders.id = t.order_id`,
        [orderIds],
      );
    });
    progress(end - start + 1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError || err instanceof DataDirInUseError ? err.message : err);
  process.exit(1);
});
