import { spawnSync } from 'node:child_process';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { createDatabase, migrateLatest } from '../../src/data-access/database';
import { signAccessToken } from '../../src/domain/auth/tokens';

const PRODUCTS = 100_000;
/** Stock of the products the createOrder scenario buys, so it never runs out. */
const HUGE_STOCK = 1_000_000_000;
const LOGIN_USERNAME = 'bench-login';
const ADMIN_USERNAME = 'bench-admin';

/** The rows and credentials the scenarios use, read from (or made in) the benchmark database. */
export type Fixtures = {
  productId: number;
  categoryId: number;
  orderProductIds: number[];
  tokens: string[];
  /** A superuser's token: the paging cases list every product, inactive ones included, to reach depth 99,000. */
  adminToken: string;
  login: { username: string; password: string };
};

/** Creates the database when it is missing (through the server's `postgres` database, trust auth). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unexpected benchmark database name: ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * Migrates the benchmark database, seeds it with scripts/seed-bench (100,000 products, 1,000 users, 10,000 orders)
 * unless it already holds that many products, then prepares the scenarios' rows: products with a huge stock for
 * createOrder, access tokens of seeded users, and a login user whose hash has the configured bcrypt cost.
 */
export async function prepareDatabase(
  url: string,
  options: { root: string; secretKey: string; bcryptRounds: number; connections: number },
): Promise<Fixtures> {
  await ensureDatabase(url);
  const db = createDatabase({
    kind: 'postgres',
    url,
    poolMin: 0,
    poolMax: 2,
    statementTimeoutMs: 600_000,
    connectTimeoutMs: 5_000,
  });
  try {
    await migrateLatest(db);
    const [{ n } = { n: 0 }] = (await db('products').count({ n: '*' })) as { n: number }[];
    if (Number(n) < PRODUCTS) {
      console.log(`seeding ${PRODUCTS} products (the database holds ${Number(n)})...`);
      const seeded = spawnSync(process.execPath, ['dist/scripts/seed-bench.js', String(PRODUCTS)], {
        cwd: options.root,
        stdio: 'inherit',
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, BCRYPT_ROUNDS: '4', LOG_LEVEL: 'warn' },
      });
      if (seeded.status !== 0) throw new Error('seed-bench failed');
    }
    const category = (await db('products')
      .select('category_id')
      .count({ n: '*' })
      .whereNotNull('category_id')
      .where('is_active', true)
      .groupBy('category_id')
      .orderBy('n', 'desc')
      .first()) as { category_id: number } | undefined;
    if (!category) throw new Error('no products with a category');
    const count = Math.max(options.connections, 16);
    const products = (await db('products')
      .select('id')
      .where('is_active', true)
      .orderBy('id')
      .limit(count + 1)) as {
      id: number;
    }[];
    const orderProductIds = products.slice(1).map((row) => Number(row.id));
    // A stock-only write: it does not change what any cached listing total counts.
    await db('products').whereIn('id', orderProductIds).update({ stock: HUGE_STOCK });
    const users = (await db('users')
      .select('id')
      .where({ is_active: true, is_superuser: false })
      .whereLike('username', 'bench-%')
      .orderBy('id')
      .limit(count)) as { id: number }[];
    if (users.length === 0) throw new Error('no seeded users');
    const now = new Date();
    const tokens = users.map((user) => signAccessToken(Number(user.id), options.secretKey, now, 3600));
    const password = 'Bench-Horse-42!';
    const hash = await bcrypt.hash(password, options.bcryptRounds);
    const reset = { hashed_password: hash, failed_login_count: 0, locked_until: null, is_active: true };
    const updated = await db('users').where({ username: LOGIN_USERNAME }).update(reset);
    if (updated === 0) {
      await db('users').insert({
        ...reset,
        email: `${LOGIN_USERNAME}@example.com`,
        username: LOGIN_USERNAME,
        full_name: 'Bench Login',
      });
    }
    const admin = { is_superuser: true, is_active: true, hashed_password: hash };
    if ((await db('users').where({ username: ADMIN_USERNAME }).update(admin)) === 0) {
      await db('users').insert({ ...admin, email: `${ADMIN_USERNAME}@example.com`, username: ADMIN_USERNAME });
    }
    const [adminRow] = (await db('users').select('id').where({ username: ADMIN_USERNAME })) as { id: number }[];
    return {
      productId: Number(products[0]?.id),
      categoryId: Number(category.category_id),
      orderProductIds,
      tokens,
      adminToken: signAccessToken(Number(adminRow?.id), options.secretKey, now, 3600),
      login: { username: LOGIN_USERNAME, password },
    };
  } finally {
    await db.destroy();
  }
}
