import { createApiClient, ApiResponseError } from '../src/client';
import { paging } from '../src/domain/listing';
import { buildCategory, buildPost, buildProduct, buildUser, type TestUser } from './support/factories';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
});
afterAll(async () => {
  await t.close();
});

type Query = Record<string, string | number | boolean>;
type Envelope = {
  items: { id: number }[];
  total: number;
  skip: number;
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
};

const get = (path: string, query: Query, auth: Record<string, string> = {}) =>
  t.request.get(path).set(auth).query(query);

/** Every item of a listing in one page (skip paging), as the reference order. */
async function allBySkip(path: string, query: Query, auth?: Record<string, string>): Promise<Envelope> {
  const res = await get(path, { ...query, limit: 1000 }, auth);
  expect(res.status).toBe(200);
  return res.body as Envelope;
}

/**
 * Walks a listing page by page through next_cursor, checking every page's envelope on the way: the total on each,
 * a cursor and has_more on every page but the last, none on the last.
 */
async function walk(
  path: string,
  query: Query,
  auth?: Record<string, string>,
  between?: (page: number) => Promise<void>,
): Promise<{ ids: number[]; pages: Envelope[] }> {
  const pages: Envelope[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(path, cursor === null ? query : { ...query, cursor }, auth);
    expect(res.status).toBe(200);
    const page = res.body as Envelope;
    pages.push(page);
    expect(page.skip).toBe(0);
    expect(page.has_more).toBe(page.next_cursor !== null);
    cursor = page.next_cursor;
    if (cursor !== null) {
      expect(page.items).toHaveLength(Number(query.limit));
      await between?.(pages.length);
    }
  } while (cursor !== null && pages.length < 50);
  expect(pages.at(-1)?.next_cursor).toBeNull();
  return { ids: pages.flatMap((page) => page.items.map((item) => item.id)), pages };
}

/** Walks a listing by cursor, two items a page, and expects exactly the items of skip paging, in the same order. */
async function expectWalkAsSkip(path: string, query: Query, total: number, auth?: Record<string, string>) {
  const reference = await allBySkip(path, query, auth);
  expect(reference.total).toBe(total);
  const walked = await walk(path, { ...query, limit: 2 }, auth);
  expect(walked.ids).toEqual(reference.items.map((item) => item.id));
  return walked;
}

// Timestamps a microsecond apart, and equal ones: a cursor must keep PostgreSQL's precision, not a Date's.
const MICRO = ['2026-03-01T10:00:00.000001Z', '2026-03-01T10:00:00.000002Z', '2026-03-01T10:00:00.000002Z'];

async function setCreatedAt(table: string, ids: number[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    await t
      .db(table)
      .where({ id })
      .update({ created_at: MICRO[i % MICRO.length] });
  }
}

describe('cursor paging of listProducts', () => {
  const sorts = ['', 'price_cents', '-price_cents', 'name', '-created_at', '-price_cents,name', 'created_at,-name'];

  test.each(sorts)(
    'when every page is followed by next_cursor with sort "%s", then the items are those of skip paging in the same order, with an exact total',
    async (sort) => {
      const tag = unique('walk');
      const prices = [300, 100, 200, 100, 300, 100, 200];
      const names = ['b', 'a', 'b', 'c', 'a', 'b', 'a'];
      const products = [];
      for (const [i, priceCents] of prices.entries()) {
        products.push(await buildProduct(t, { name: `${tag} ${names[i]}`, priceCents }));
      }
      await setCreatedAt(
        'products',
        products.map((p) => p.id),
      );
      const { pages } = await expectWalkAsSkip('/api/v1/products', sort ? { q: tag, sort } : { q: tag }, 7);
      expect(pages).toHaveLength(4);
      expect(pages.map((page) => page.total)).toEqual([7, 7, 7, 7]);
    },
  );

  test('when the limit changes between pages, then the walk still yields every item once in order', async () => {
    const tag = unique('limits');
    for (const priceCents of [5, 4, 3, 2, 1]) await buildProduct(t, { name: `${tag}`, priceCents });
    const reference = await allBySkip('/api/v1/products', { q: tag, sort: 'price_cents' });
    const first = await get('/api/v1/products', { q: tag, sort: 'price_cents', limit: 1 });
    const rest = await get('/api/v1/products', {
      q: tag,
      sort: 'price_cents',
      limit: 10,
      cursor: first.body.next_cursor,
    });
    expect(rest.status).toBe(200);
    expect([...first.body.items, ...rest.body.items].map((item: { id: number }) => item.id)).toEqual(
      reference.items.map((item) => item.id),
    );
    expect(rest.body).toMatchObject({ total: 5, skip: 0, limit: 10, has_more: false, next_cursor: null });
  });

  test('when products are added and removed between page requests, then no item is repeated or lost', async () => {
    const tag = unique('moving');
    const before: { id: number }[] = [];
    for (const priceCents of [10, 20, 30, 40, 50, 60]) {
      before.push(await buildProduct(t, { name: tag, priceCents }));
    }
    const added: number[] = [];
    // After the first page (10, 20): one product sorting before the cursor, one after it; and the first page's
    // last row, which the cursor names, is deleted.
    const { ids, pages } = await walk(
      '/api/v1/products',
      { q: tag, sort: 'price_cents', limit: 2 },
      {},
      async (page) => {
        if (page !== 1) return;
        added.push((await buildProduct(t, { name: tag, priceCents: 5 })).id);
        added.push((await buildProduct(t, { name: tag, priceCents: 45 })).id);
        await t.db('products').where({ id: before[1]?.id }).delete();
      },
    );
    const [early, late] = added;
    const expected = [before[0], before[1], before[2], before[3], { id: late }, before[4], before[5]].map((p) => p?.id);
    expect(ids).toEqual(expected);
    expect(ids).not.toContain(early);
    expect(new Set(ids).size).toBe(ids.length);
    // The total is exact at each request: 6, then 6 + 2 - 1.
    expect(pages.map((page) => page.total)).toEqual([6, 7, 7, 7]);
  });

  test('when a page has no next page, then next_cursor is null and has_more false', async () => {
    const tag = unique('last');
    await buildProduct(t, { name: tag });
    const res = await get('/api/v1/products', { q: tag });
    expect(res.body).toMatchObject({ total: 1, skip: 0, has_more: false, next_cursor: null });
    const empty = await get('/api/v1/products', { q: unique('none') });
    expect(empty.body).toMatchObject({ items: [], total: 0, has_more: false, next_cursor: null });
  });

  test('when skip paging has more items, then its page carries a cursor that continues right after it', async () => {
    const tag = unique('mixed');
    for (const priceCents of [1, 2, 3, 4]) await buildProduct(t, { name: tag, priceCents });
    const reference = await allBySkip('/api/v1/products', { q: tag, sort: '-price_cents' });
    const second = await get('/api/v1/products', { q: tag, sort: '-price_cents', skip: 1, limit: 2 });
    expect(second.body).toMatchObject({ skip: 1, limit: 2, has_more: true });
    const third = await get('/api/v1/products', { q: tag, sort: '-price_cents', cursor: second.body.next_cursor });
    expect(third.body.items.map((item: { id: number }) => item.id)).toEqual([reference.items[3]?.id]);
  });
});

describe('refused cursors', () => {
  const refusedOn = (res: { status: number; body: Record<string, unknown> }, path: string) => {
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    expect(res.body.details).toEqual([expect.objectContaining({ location: 'query', path })]);
  };

  let tag: string;
  let cursor: string;
  beforeAll(async () => {
    tag = unique('refuse');
    for (const priceCents of [1, 2, 3]) await buildProduct(t, { name: tag, priceCents });
    const res = await get('/api/v1/products', { q: tag, sort: 'price_cents', limit: 1 });
    cursor = res.body.next_cursor;
    expect(cursor).toEqual(expect.any(String));
  });

  test('when one character of the cursor is changed, then it is 422 naming /cursor', async () => {
    const [body = '', mac = ''] = cursor.split('.');
    const flip = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
    for (const altered of [
      `${flip(body, 3)}.${mac}`,
      `${body}.${flip(mac, 0)}`,
      `${body}.${flip(mac, mac.length - 1)}`,
    ]) {
      refusedOn(await get('/api/v1/products', { q: tag, sort: 'price_cents', cursor: altered }), '/cursor');
    }
  });

  test('when the cursor is truncated or not a cursor at all, then it is 422 naming /cursor', async () => {
    for (const broken of [cursor.slice(0, -3), cursor.split('.')[0] ?? '', 'abc', '', `${cursor}.x`, "1' OR '1'='1"]) {
      refusedOn(await get('/api/v1/products', { q: tag, sort: 'price_cents', cursor: broken }), '/cursor');
    }
  });

  test('when the cursor was signed with another key, then it is 422 naming /cursor', async () => {
    const forged = paging(
      [Buffer.alloc(32, 1)],
      { name: 'products', sort: [{ column: 'p.price_cents', direction: 'asc' }], filter: {} },
      { skip: 0, limit: 1 },
    ).toPage({ items: [], total: 0, next: { keys: ['0'], id: 1 } }).nextCursor;
    refusedOn(await get('/api/v1/products', { q: tag, sort: 'price_cents', cursor: forged ?? '' }), '/cursor');
  });

  test('when the cursor was made for another sort, other filters or another listing, then it is 422 naming /cursor', async () => {
    for (const query of <Query[]>[
      { q: tag, sort: '-price_cents' },
      { q: tag, sort: 'price_cents,name' },
      { q: tag },
      { q: `${tag}x`, sort: 'price_cents' },
      { q: tag, sort: 'price_cents', min_price_cents: 0 },
    ]) {
      const res = await get('/api/v1/products', { ...query, cursor });
      refusedOn(res, '/cursor');
      expect(res.body.details[0].message).toMatch(/another listing/);
    }
    refusedOn(await get('/api/v1/categories', { cursor }), '/cursor');
    refusedOn(await get('/api/v1/users', { cursor }, admin.auth), '/cursor');
  });

  test('when SECRET_KEY is rotated, then a cursor signed with the previous key still continues the walk', async () => {
    const rotated = await startTestApp({
      env: { SECRET_KEY: 'rotated-test-key-0123456789abcdef012345', SECRET_KEY_PREVIOUS: t.deps.config.secretKey },
    });
    try {
      for (const priceCents of [10, 20]) await buildProduct(rotated, { name: tag, priceCents });
      const query = { q: tag, sort: 'price_cents' };
      const continued = await rotated.request.get('/api/v1/products').query({ ...query, cursor });
      expect(continued.status).toBe(200);
      expect(continued.body.items.map((item: { price_cents: number }) => item.price_cents)).toContain(20);
      // The new key signs: an app that knows only the previous one refuses those cursors.
      const signedNew = await rotated.request.get('/api/v1/products').query({ ...query, limit: 1 });
      expect(signedNew.body.next_cursor).toEqual(expect.any(String));
      refusedOn(await get('/api/v1/products', { ...query, cursor: signedNew.body.next_cursor }), '/cursor');
    } finally {
      await rotated.close();
    }
  });

  test('when skip is given with a cursor, then it is 422 naming /skip', async () => {
    refusedOn(await get('/api/v1/products', { q: tag, sort: 'price_cents', cursor, skip: 1 }), '/skip');
    const res = await get('/api/v1/products', { q: tag, sort: 'price_cents', cursor, skip: 0 });
    expect(res.status).toBe(200);
  });

  test('when a signed cursor holds SQL in a key value, then it is compared as a value and the table is intact', async () => {
    const own = t.deps.config.cursorKeys;
    const sql = "a') OR 1=1; DROP TABLE products; --";
    const nameTag = unique('inject');
    await buildProduct(t, { name: `${nameTag} a` });
    await buildProduct(t, { name: `${nameTag} z` });
    const made = paging(
      own,
      { name: 'products', sort: [{ column: 'p.name', direction: 'asc' }], filter: { q: nameTag, isActive: true } },
      { skip: 0, limit: 1 },
    ).toPage({ items: [], total: 0, next: { keys: [`${nameTag} ${sql}`], id: 1 } }).nextCursor;
    const res = await get('/api/v1/products', { q: nameTag, sort: 'name', cursor: made ?? '' });
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { name: string }) => item.name)).toEqual([`${nameTag} z`]);
    expect(Number((await t.db('products').count({ n: '*' }))[0]?.n)).toBeGreaterThan(1);
  });
});

describe('cursor paging of the other listings', () => {
  test('when categories are walked by cursor sorted by name then newest, then it matches skip paging', async () => {
    const tag = unique('cats');
    const ids = [];
    for (const name of ['b', 'a', 'b', 'a', 'c']) ids.push((await buildCategory(t, { name: `${tag} ${name}` })).id);
    await setCreatedAt('categories', ids);
    await expectWalkAsSkip('/api/v1/categories', { q: tag, sort: 'name,-created_at' }, 5);
  });

  test('when posts are walked by cursor sorted by title then newest, then it matches skip paging', async () => {
    const tag = unique('posts');
    const ids = [];
    for (const title of ['x', 'y', 'x', 'x', 'z'])
      ids.push((await buildPost(t, admin, { title: `${tag} ${title}` })).id);
    await setCreatedAt('posts', ids);
    for (const sort of ['title,-created_at', '-created_at'])
      await expectWalkAsSkip('/api/v1/posts', { q: tag, sort }, 5);
  });

  test('when users are walked by cursor newest first then by email, then it matches skip paging', async () => {
    const tag = unique('people');
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push((await buildUser(t, { username: `${tag}${i}` })).id);
    await setCreatedAt('users', ids);
    await expectWalkAsSkip('/api/v1/users', { q: tag, sort: '-created_at,email' }, 5, admin.auth);
  });

  test("when a user's orders are walked by cursor by total, then it matches skip paging, and another user cannot continue it", async () => {
    const buyer = await buildUser(t);
    for (const priceCents of [500, 100, 500, 300, 100]) {
      const product = await buildProduct(t, { priceCents });
      const order = await t.request
        .post('/api/v1/orders')
        .set(buyer.auth)
        .send({ items: [{ product_id: product.id, quantity: 1 }] });
      expect(order.status).toBe(201);
    }
    const query = { sort: '-total_cents,created_at' };
    const { pages } = await expectWalkAsSkip('/api/v1/orders', query, 5, buyer.auth);

    const other = await buildUser(t);
    const res = await get('/api/v1/orders', { ...query, cursor: pages[0]?.next_cursor ?? '' }, other.auth);
    expect([res.status, res.body.details?.[0]?.path]).toEqual([422, '/cursor']);
  });
});

describe('the typed client', () => {
  test('when paginate is looped over, then it yields every item of every page in order, following next_cursor', async () => {
    const tag = unique('client');
    for (const priceCents of [7, 3, 5, 3, 9]) await buildProduct(t, { name: tag, priceCents });
    const reference = await allBySkip('/api/v1/products', { q: tag, sort: '-price_cents' });
    const client = createApiClient(t.url);
    const seen: { id: number; price_cents: number }[] = [];
    for await (const product of client.paginate('/api/v1/products', {
      query: { q: tag, sort: '-price_cents', limit: 2, skip: 1 },
    })) {
      seen.push(product);
    }
    expect(seen.map((p) => p.id)).toEqual(reference.items.slice(1).map((p) => p.id));
    expect(seen.map((p) => p.price_cents)).toEqual([7, 5, 3, 3]);
  });

  test('when the loop breaks early, then no further page is fetched', async () => {
    const tag = unique('early');
    for (const priceCents of [1, 2, 3]) await buildProduct(t, { name: tag, priceCents });
    const client = createApiClient(t.url);
    const requests: string[] = [];
    client.use({ onRequest: ({ request }) => void requests.push(request.url) });
    for await (const product of client.paginate('/api/v1/products', { query: { q: tag, limit: 1 } })) {
      expect(product.name).toBe(tag);
      break;
    }
    expect(requests).toHaveLength(1);
  });

  test('when paging an operation that needs a token, then the token is sent, and an error answer throws', async () => {
    const tag = unique('clientusers');
    for (let i = 0; i < 3; i += 1) await buildUser(t, { username: `${tag}${i}` });
    const users = [];
    for await (const user of createApiClient(t.url, admin.token).paginate('/api/v1/users', {
      query: { q: tag, limit: 1, sort: 'username' },
    })) {
      users.push(user.username);
    }
    expect(users).toEqual([`${tag}0`, `${tag}1`, `${tag}2`]);

    const anonymous = createApiClient(t.url).paginate('/api/v1/users', { query: { q: tag } });
    await expect(anonymous.next()).rejects.toMatchObject({ status: 401, body: { error_code: 'NOT_AUTHENTICATED' } });
    const publicPages = createApiClient(t.url).paginate('/api/v1/products', { query: { q: tag } });
    await expect(publicPages.next()).resolves.toEqual({ done: true, value: undefined });
    expect(new ApiResponseError(422, {}).message).toContain('422');
  });
});
