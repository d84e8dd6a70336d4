import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import bcrypt from 'bcrypt';
import jwt from 'jsonwebtoken';
import pg from 'pg';

/*
 * The bare baseline of `make bench`: plain node:http and pg, no framework, no validation, no logging. It runs the
 * same SQL as the app for the benchmarked routes and answers the same JSON, so it is the practical ceiling of this
 * stack on this machine. Unlike the app, a listing always runs the page query plus a plain count(*).
 * Environment: DATABASE_URL, PORT, SECRET_KEY, BCRYPT_ROUNDS is not needed (the stored hash carries its cost),
 * DB_POOL_MAX (default 10, the app's default).
 */

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
// A KeyObject, as the app uses: jsonwebtoken handles a string secret far more slowly.
const secret = createSecretKey(Buffer.from(process.env.SECRET_KEY ?? randomBytes(32).toString('base64url'), 'utf8'));
const ACCESS_TTL_SECONDS = 30 * 60;
const REFRESH_TTL_SECONDS = 7 * 24 * 3600;

const PRODUCT_COLUMNS =
  '"p"."id", "p"."name", "p"."description", "p"."price_cents", "p"."currency", "p"."stock", "p"."category_id", ' +
  '"p"."is_active", "p"."created_at", "p"."updated_at", "c"."name" as "category_name", "c"."slug" as "category_slug"';
const PRODUCT_FROM = 'from "products" as "p" left join "categories" as "c" on "c"."id" = "p"."category_id"';
const USER_COLUMNS =
  '"id", "email", "username", "full_name", "hashed_password", "is_active", "is_superuser", "failed_login_count", ' +
  '"locked_until", "password_changed_at", "created_at", "updated_at"';
const SORT_COLUMNS: Record<string, string> = {
  price_cents: '"p"."price_cents"',
  created_at: '"p"."created_at"',
  name: '"p"."name"',
};

type Row = Record<string, unknown>;
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const iso = (value: unknown) => new Date(value as string).toISOString();

function presentProduct(row: Row) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    price_cents: row.price_cents,
    currency: row.currency,
    stock: row.stock,
    category_id: row.category_id,
    category:
      row.category_id === null ? null : { id: row.category_id, name: row.category_name, slug: row.category_slug },
    is_active: row.is_active,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function presentUser(row: Row) {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    full_name: row.full_name,
    is_active: row.is_active,
    is_superuser: row.is_superuser,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(json);
}

async function readJson(req: IncomingMessage): Promise<Row> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Row;
  } catch {
    throw new HttpError(400, 'MALFORMED_JSON');
  }
}

async function getProduct(res: ServerResponse, id: number): Promise<void> {
  const { rows } = await pool.query(`select ${PRODUCT_COLUMNS} ${PRODUCT_FROM} where "p"."id" = $1 limit $2`, [id, 1]);
  const row = rows[0] as Row | undefined;
  if (!row || !row.is_active) throw new HttpError(404, 'PRODUCT_NOT_FOUND');
  const body = presentProduct(row);
  const etag = `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url')}"`;
  send(res, 200, body, { ETag: etag });
}

async function listProducts(res: ServerResponse, query: URLSearchParams): Promise<void> {
  const skip = Number(query.get('skip') ?? 0);
  const limit = Number(query.get('limit') ?? 20);
  const where: string[] = [];
  const params: unknown[] = [];
  const categoryId = query.get('category_id');
  if (categoryId !== null) where.push(`"p"."category_id" = $${params.push(Number(categoryId))}`);
  where.push(`"p"."is_active" = $${params.push(true)}`);
  const q = query.get('q');
  if (q !== null) where.push(`p.search_text LIKE lower($${params.push(`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)})`);
  const order: string[] = [];
  for (const raw of (query.get('sort') ?? '').split(',').filter(Boolean)) {
    const column = SORT_COLUMNS[raw.replace(/^-/, '')];
    if (!column) throw new HttpError(422, 'VALIDATION_ERROR');
    order.push(`${column} ${raw.startsWith('-') ? 'desc' : 'asc'}`);
  }
  order.push(`"p"."id" ${order[0]?.endsWith('desc') ? 'desc' : 'asc'}`);
  const whereSql = where.join(' and ');
  const orderSql = order.join(', ');
  const countParams = [...params];
  const pageSql =
    `select ${PRODUCT_COLUMNS} ${PRODUCT_FROM} inner join (select "p"."id" from "products" as "p" where ${whereSql} ` +
    `order by ${orderSql} limit $${params.push(limit)} offset $${params.push(skip)}) as "page" on "page"."id" = "p"."id" ` +
    `order by ${orderSql} limit $${params.push(limit)}`;
  const [page, count] = await Promise.all([
    pool.query(pageSql, params),
    pool.query(`select count(*) as "total" from "products" as "p" where ${whereSql}`, countParams),
  ]);
  const items = page.rows.map((row: Row) => presentProduct(row));
  const total = Number((count.rows[0] as Row).total);
  send(res, 200, { items, total, skip, limit, has_more: skip + items.length < total });
}

// The same checks as the app's authenticator: HS256, access type, numeric subject, expiry, then the user row.
async function authenticate(req: IncomingMessage): Promise<Row> {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) throw new HttpError(401, 'NOT_AUTHENTICATED');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(header.slice(7), secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
  } catch {
    throw new HttpError(401, 'INVALID_TOKEN');
  }
  if (claims.type !== 'access' || typeof claims.sub !== 'string' || !/^\d{1,10}$/.test(claims.sub)) {
    throw new HttpError(401, 'INVALID_TOKEN');
  }
  const { rows } = await pool.query(`select ${USER_COLUMNS} from "users" where "id" = $1 limit $2`, [
    Number(claims.sub),
    1,
  ]);
  const user = rows[0] as Row | undefined;
  if (!user || !user.is_active) throw new HttpError(401, 'INVALID_TOKEN');
  return user;
}

async function createOrder(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const user = await authenticate(req);
  const body = await readJson(req);
  const item = (body.items as { product_id: number; quantity: number }[] | undefined)?.[0];
  if (!item) throw new HttpError(422, 'VALIDATION_ERROR');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const found = await client.query(
      'select "id", "name", "price_cents", "currency", "is_active" from "products" where "id" in ($1)',
      [item.product_id],
    );
    if (!(found.rows[0] as Row | undefined)?.is_active) throw new HttpError(422, 'VALIDATION_ERROR');
    const taken = await client.query(
      'update "products" set "stock" = stock - $1, "updated_at" = CURRENT_TIMESTAMP where "id" = $2 and "stock" >= $3 ' +
        'returning "id", "name", "price_cents", "currency", "is_active"',
      [item.quantity, item.product_id, item.quantity],
    );
    const product = taken.rows[0] as Row | undefined;
    if (!product) throw new HttpError(409, 'INSUFFICIENT_STOCK');
    const inserted = await client.query('insert into "orders" ("currency", "user_id") values ($1, $2) returning "id"', [
      product.currency,
      user.id,
    ]);
    const orderId = (inserted.rows[0] as Row).id;
    await client.query(
      'insert into "order_items" ("order_id", "product_id", "product_name", "quantity", "unit_price_cents") values ($1, $2, $3, $4, $5)',
      [orderId, product.id, product.name, item.quantity, product.price_cents],
    );
    await client.query(
      'update "orders" set "total_cents" = (select sum("line_total_cents") from "order_items" where "order_id" = $1) where "id" = $2',
      [orderId, orderId],
    );
    const order = (
      await client.query(
        'select "id", "user_id", "status", "total_cents", "currency", "created_at", "updated_at" from "orders" where "id" = $1 limit $2',
        [orderId, 1],
      )
    ).rows[0] as Row;
    const items = await client.query(
      'select "order_id", "product_id", "product_name", "unit_price_cents", "quantity", "line_total_cents" from "order_items" where "order_id" in ($1) order by "id" asc',
      [orderId],
    );
    await client.query('COMMIT');
    send(
      res,
      201,
      {
        id: order.id,
        user_id: order.user_id,
        status: order.status,
        items: items.rows.map((row: Row) => ({
          product_id: row.product_id,
          product_name: row.product_name,
          unit_price_cents: row.unit_price_cents,
          quantity: row.quantity,
          line_total_cents: row.line_total_cents,
        })),
        total_cents: order.total_cents,
        currency: order.currency,
        created_at: iso(order.created_at),
        updated_at: iso(order.updated_at),
      },
      { Location: `http://${req.headers.host ?? 'localhost'}/api/v1/orders/${String(orderId)}` },
    );
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  const username = String(body.username ?? '').toLowerCase();
  const { rows } = await pool.query(
    `select ${USER_COLUMNS} from "users" where "email" = $1 or lower(username) = $2 order by "id" asc limit $3`,
    [username, username, 1],
  );
  const user = rows[0] as Row | undefined;
  if (!user || !(await bcrypt.compare(String(body.password ?? ''), String(user.hashed_password)))) {
    throw new HttpError(401, 'INVALID_CREDENTIALS');
  }
  const now = Date.now();
  const refreshToken = randomBytes(32).toString('base64url');
  await pool.query(
    'insert into "refresh_tokens" ("expires_at", "family_id", "token_hash", "user_id") values ($1, $2, $3, $4)',
    [
      new Date(now + REFRESH_TTL_SECONDS * 1000),
      randomUUID(),
      createHash('sha256').update(refreshToken).digest('hex'),
      user.id,
    ],
  );
  const iat = Math.floor(now / 1000);
  const accessToken = jwt.sign(
    { sub: String(user.id), type: 'access', iat, exp: iat + ACCESS_TTL_SECONDS, jti: randomUUID() },
    secret,
    { algorithm: 'HS256' },
  );
  send(
    res,
    200,
    {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: ACCESS_TTL_SECONDS,
      refresh_token: refreshToken,
      refresh_expires_in: REFRESH_TTL_SECONDS,
    },
    { 'Cache-Control': 'no-store' },
  );
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (req.method === 'GET') {
    if (path === '/health') return send(res, 200, { status: 'healthy', timestamp: new Date().toISOString() });
    if (path === '/health/ready') {
      await pool.query('select 1');
      return send(res, 200, { status: 'ready', timestamp: new Date().toISOString() });
    }
    if (path === '/api/v1/products') return listProducts(res, url.searchParams);
    const product = /^\/api\/v1\/products\/(\d+)$/.exec(path);
    if (product) return getProduct(res, Number(product[1]));
    if (path === '/api/v1/users/me') return send(res, 200, presentUser(await authenticate(req)));
  }
  if (req.method === 'POST') {
    if (path === '/api/v1/orders') return createOrder(req, res);
    if (path === '/api/v1/auth/login') return login(req, res);
  }
  throw new HttpError(404, 'NOT_FOUND');
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) console.error(err);
    if (!res.headersSent) send(res, status, { error_code: err instanceof HttpError ? err.code : 'INTERNAL_ERROR' });
  });
});
server.listen(Number(process.env.PORT ?? 8001), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeIdleConnections();
});
