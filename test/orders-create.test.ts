import { findProductById } from '../src/data-access/products-repository';
import { buildProduct, buildUser, tokenFor, type TestUser } from './support/factories';
import { expectBodyErrors } from './support/http-contract';
import { untilWaitingOnLock } from './support/locks';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  user = await buildUser(t);
});
afterAll(async () => {
  await t.close();
});

const MISSING_ID = 2147483647;
type Line = { product_id: number; quantity: number };
const order = (auth: Record<string, string>, items: Line[], key?: string) => {
  const req = t.request.post('/api/v1/orders').set(auth);
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send({ items });
};
const stockOf = async (id: number) => (await findProductById(t.db, id))?.stock;
const ordersOf = async (userId: number) => t.db('orders').where({ user_id: userId }).count({ n: '*' });

describe('createOrder', () => {
  test('when a user orders two products, then prices come from the catalog, stock drops and the total is stored', async () => {
    const buyer = await buildUser(t);
    const pan = await buildProduct(t, { priceCents: 2500, stock: 5 });
    const lid = await buildProduct(t, { priceCents: 799, stock: 5 });
    const res = await order(buyer.auth, [
      { product_id: lid.id, quantity: 3 },
      { product_id: pan.id, quantity: 1 },
    ]);
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/orders/${res.body.id}$`));
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.body).toMatchObject({ user_id: buyer.id, status: 'pending', currency: 'EUR', total_cents: 4897 });
    expect(res.body.items).toEqual([
      { product_id: lid.id, product_name: lid.name, unit_price_cents: 799, quantity: 3, line_total_cents: 2397 },
      { product_id: pan.id, product_name: pan.name, unit_price_cents: 2500, quantity: 1, line_total_cents: 2500 },
    ]);
    expect([await stockOf(pan.id), await stockOf(lid.id)]).toEqual([4, 2]);
    expect(await t.db('orders').where({ id: res.body.id }).first()).toMatchObject({
      total_cents: 4897,
      user_id: buyer.id,
    });
  });

  test('when the body carries a price, then the closed schema rejects it with 422 and nothing is ordered', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { priceCents: 5000 });
    const res = await t.request
      .post('/api/v1/orders')
      .set(buyer.auth)
      .send({ items: [{ product_id: product.id, quantity: 1, unit_price_cents: 1 }] });
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(
      expect.objectContaining({ location: 'body', path: '/items/0/unit_price_cents' }),
    );
    const withTotal = await t.request
      .post('/api/v1/orders')
      .set(buyer.auth)
      .send({ items: [{ product_id: product.id, quantity: 1 }], total_cents: 1 });
    expect(withTotal.status).toBe(422);
    expect(await ordersOf(buyer.id)).toEqual([{ n: 0 }]);
    expect(await stockOf(product.id)).toBe(product.stock);
  });

  test('when items are empty or a quantity is below 1, then it is 422', async () => {
    const product = await buildProduct(t);
    expect((await order(user.auth, [])).status).toBe(422);
    const zero = await order(user.auth, [{ product_id: product.id, quantity: 0 }]);
    expect(zero.status).toBe(422);
    expect(zero.body.details).toContainEqual(expect.objectContaining({ path: '/items/0/quantity' }));
    expect(await stockOf(product.id)).toBe(product.stock);
  });

  test('when a product is repeated, then it is 422 naming the repeated item', async () => {
    const product = await buildProduct(t);
    const other = await buildProduct(t);
    const res = await order(user.auth, [
      { product_id: product.id, quantity: 1 },
      { product_id: other.id, quantity: 1 },
      { product_id: product.id, quantity: 2 },
    ]);
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      { location: 'body', path: '/items/2/product_id', message: `product ${product.id} is already in the order` },
    ]);
  });

  test('when products are unknown or inactive, then it is 422 naming each such item and no stock moves', async () => {
    const good = await buildProduct(t, { stock: 4 });
    const inactive = await buildProduct(t, { isActive: false });
    const res = await order(user.auth, [
      { product_id: good.id, quantity: 1 },
      { product_id: MISSING_ID, quantity: 1 },
      { product_id: inactive.id, quantity: 1 },
    ]);
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      { location: 'body', path: '/items/1/product_id', message: `product ${MISSING_ID} does not exist` },
      { location: 'body', path: '/items/2/product_id', message: `product ${inactive.id} is not available` },
    ]);
    expect(await stockOf(good.id)).toBe(4);
  });

  test('when products are priced in different currencies, then it is 422 naming the odd item', async () => {
    const euro = await buildProduct(t, { currency: 'EUR' });
    const dollar = await buildProduct(t, { currency: 'USD' });
    const res = await order(user.auth, [
      { product_id: euro.id, quantity: 1 },
      { product_id: dollar.id, quantity: 1 },
    ]);
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      { location: 'body', path: '/items/1/product_id', message: `product ${dollar.id} is priced in USD, not EUR` },
    ]);
  });

  test('when one item lacks stock, then it is 409 INSUFFICIENT_STOCK naming it and the other item keeps its stock', async () => {
    const buyer = await buildUser(t);
    const plenty = await buildProduct(t, { stock: 10 });
    const scarce = await buildProduct(t, { stock: 1 });
    const res = await order(buyer.auth, [
      { product_id: plenty.id, quantity: 2 },
      { product_id: scarce.id, quantity: 2 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('INSUFFICIENT_STOCK');
    expect(res.body.message).toContain(String(scarce.id));
    expect(res.body.details).toEqual([
      { location: 'body', path: '/items/1/quantity', message: `product ${scarce.id} has fewer than 2 in stock` },
    ]);
    expect([await stockOf(plenty.id), await stockOf(scarce.id)]).toEqual([10, 1]);
    expect(await ordersOf(buyer.id)).toEqual([{ n: 0 }]);
  });

  test('when 50 orders race for a product with stock 10, then exactly 10 succeed, the rest are 409 and stock ends at 0', async () => {
    const product = await buildProduct(t, { stock: 10 });
    const buyers = await Promise.all(Array.from({ length: 5 }, () => buildUser(t)));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => order(buyers[i % 5]!.auth, [{ product_id: product.id, quantity: 1 }])),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error_code === 'INSUFFICIENT_STOCK')).toBe(true);
    expect(await stockOf(product.id)).toBe(0);
    const [sold] = await t.db('order_items').where({ product_id: product.id }).sum({ n: 'quantity' });
    expect(Number(sold?.n)).toBe(10);
  });

  test('when orders of different sizes race, then the sold quantity never exceeds the stock and stock never goes negative', async () => {
    const product = await buildProduct(t, { stock: 10 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => order(user.auth, [{ product_id: product.id, quantity: (i % 3) + 1 }])),
    );
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const soldByResponses = results
      .filter((r) => r.status === 201)
      .reduce((sum, r) => sum + (r.body.items[0].quantity as number), 0);
    const stock = await stockOf(product.id);
    expect(stock).toBeGreaterThanOrEqual(0);
    expect(soldByResponses + (stock ?? 0)).toBe(10);
  });

  test('when nobody is logged in, then it is 401', async () => {
    const product = await buildProduct(t);
    const res = await t.request.post('/api/v1/orders').send({ items: [{ product_id: product.id, quantity: 1 }] });
    expect(res.status).toBe(401);
    expect(await stockOf(product.id)).toBe(product.stock);
  });

  test('when the account is deactivated, then it is 403', async () => {
    const inactive = await buildUser(t, { isActive: false });
    const product = await buildProduct(t);
    expect((await order(inactive.auth, [{ product_id: product.id, quantity: 1 }])).status).toBe(403);
  });

  test('when the body is broken, of the wrong type or too large, then it is 400, 415 or 413', async () => {
    await expectBodyErrors(t, 'post', '/api/v1/orders', user.auth);
  });
});

describe('createOrder with an Idempotency-Key', () => {
  test('when the same request is retried with its key, then the original order is answered again and nothing is re-ordered', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 5 });
    const key = unique('key');
    const first = await order(buyer.auth, [{ product_id: product.id, quantity: 2 }], key);
    const again = await order(buyer.auth, [{ product_id: product.id, quantity: 2 }], key);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(await stockOf(product.id)).toBe(3);
    expect(await ordersOf(buyer.id)).toEqual([{ n: 1 }]);
  });

  test('when the items come in another order, then it is still the same request', async () => {
    const buyer = await buildUser(t);
    const [a, b] = [await buildProduct(t), await buildProduct(t)];
    const key = unique('key');
    const first = await order(
      buyer.auth,
      [
        { product_id: a.id, quantity: 1 },
        { product_id: b.id, quantity: 2 },
      ],
      key,
    );
    const again = await order(
      buyer.auth,
      [
        { product_id: b.id, quantity: 2 },
        { product_id: a.id, quantity: 1 },
      ],
      key,
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
  });

  test('when the key is reused with another body, then it is 409 IDEMPOTENCY_KEY_REUSED and nothing is ordered', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 5 });
    const key = unique('key');
    await order(buyer.auth, [{ product_id: product.id, quantity: 1 }], key);
    const res = await order(buyer.auth, [{ product_id: product.id, quantity: 3 }], key);
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await stockOf(product.id)).toBe(4);
    expect(await ordersOf(buyer.id)).toEqual([{ n: 1 }]);
  });

  test('when another user sends the same key, then it is their own, separate order', async () => {
    const [alice, bob] = [await buildUser(t), await buildUser(t)];
    const product = await buildProduct(t);
    const key = unique('key');
    const a = await order(alice.auth, [{ product_id: product.id, quantity: 1 }], key);
    const b = await order(bob.auth, [{ product_id: product.id, quantity: 1 }], key);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.user_id).toBe(bob.id);
  });

  test('when five requests with one key race, then exactly one order is created and all answer it', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 10 });
    const key = unique('key');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => order(buyer.auth, [{ product_id: product.id, quantity: 1 }], key)),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
    expect(await ordersOf(buyer.id)).toEqual([{ n: 1 }]);
    expect(await stockOf(product.id)).toBe(9);
  });

  test('when the first request with a key failed, then a retry with that key runs afresh', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 0 });
    const key = unique('key');
    expect((await order(buyer.auth, [{ product_id: product.id, quantity: 1 }], key)).status).toBe(409);
    await t.db('products').where({ id: product.id }).update({ stock: 1 });
    const retry = await order(buyer.auth, [{ product_id: product.id, quantity: 1 }], key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  test('when the key is longer than 255 characters, then it is 422 naming the header', async () => {
    const product = await buildProduct(t);
    const res = await order(user.auth, [{ product_id: product.id, quantity: 1 }], 'k'.repeat(256));
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'header' }));
    expect(await stockOf(product.id)).toBe(product.stock);
  });

  test('when the key is older than IDEMPOTENCY_TTL_HOURS, then it has expired and the same request orders again', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 5 });
    const key = unique('key');
    const first = await order(buyer.auth, [{ product_id: product.id, quantity: 1 }], key);
    t.clock.advance(23 * 3600 * 1000);
    const auth = { Authorization: `Bearer ${tokenFor(t, buyer.id)}` };
    const within = await order(auth, [{ product_id: product.id, quantity: 1 }], key);
    expect(within.body.id).toBe(first.body.id);
    t.clock.advance(2 * 3600 * 1000);
    const laterAuth = { Authorization: `Bearer ${tokenFor(t, buyer.id)}` };
    const after = await order(laterAuth, [{ product_id: product.id, quantity: 1 }], key);
    expect(after.status).toBe(201);
    expect(after.body.id).not.toBe(first.body.id);
    expect(after.headers['idempotent-replayed']).toBeUndefined();
    expect(await stockOf(product.id)).toBe(3);
  });

  test('when requests with one key and two different bodies race, then one body is ordered once and the other is 409', async () => {
    const buyer = await buildUser(t);
    for (let round = 0; round < 4; round += 1) {
      const product = await buildProduct(t, { stock: 20 });
      const key = unique('key');
      const bodies = [1, 2, 1, 2, 1, 2].map((quantity) => [{ product_id: product.id, quantity }]);
      const results = await Promise.all(bodies.map((items) => order(buyer.auth, items, key)));
      const won = results.filter((r) => r.status === 201);
      const lost = results.filter((r) => r.status !== 201);
      // The first claim decides the body: its three requests answer one order, the other three are refused.
      expect([won.length, lost.length]).toEqual([3, 3]);
      expect(new Set(won.map((r) => JSON.stringify(r.body))).size).toBe(1);
      expect(won.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
      for (const res of lost) {
        expect({ status: res.status, error_code: res.body.error_code }).toEqual({
          status: 409,
          error_code: 'IDEMPOTENCY_KEY_REUSED',
        });
      }
      const quantity = won[0]?.body.items[0].quantity as number;
      expect(bodies.filter((_, i) => results[i]?.status === 201).every((b) => b[0]?.quantity === quantity)).toBe(true);
      expect(await t.db('orders').where({ user_id: buyer.id, id: won[0]?.body.id })).toHaveLength(1);
      expect(await stockOf(product.id)).toBe(20 - quantity);
    }
  });
});

describe('createOrder racing deleteProduct', () => {
  test('when orders are in flight while the product is deleted, then each is a 201 or the same 422 as an unknown product, never a shortage', async () => {
    const admin = await buildUser(t, { isSuperuser: true });
    const buyers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => buildUser(t)));
    const unknown = await order(buyers[0]?.auth ?? {}, [{ product_id: MISSING_ID, quantity: 1 }]);
    expect(unknown.status).toBe(422);
    // Rounds, because only some interleavings put the delete between an order's check and its stock update.
    for (let round = 0; round < 8; round += 1) {
      const product = await buildProduct(t, { stock: 50 });
      const responses = await Promise.all([
        ...buyers.map((buyer) => order(buyer.auth, [{ product_id: product.id, quantity: 1 }])),
        t.request.delete(`/api/v1/products/${product.id}`).set(admin.auth),
      ]);
      const deleted = responses.pop();
      const placed = responses.filter((res) => res.status === 201);
      for (const res of responses.filter((r) => r.status !== 201)) {
        expect({ status: res.status, error_code: res.body.error_code, details: res.body.details }).toEqual({
          status: 422,
          error_code: unknown.body.error_code,
          details: [{ location: 'body', path: '/items/0/product_id', message: `product ${product.id} does not exist` }],
        });
      }
      if (deleted?.status === 204) {
        expect(placed).toEqual([]);
        expect(await findProductById(t.db, product.id)).toBeUndefined();
      } else {
        expect(deleted?.status).toBe(409);
        expect(await stockOf(product.id)).toBe(50 - placed.length);
      }
      const [{ n }] = (await t.db('order_items').where({ product_id: product.id }).count({ n: '*' })) as [
        { n: unknown },
      ];
      expect(Number(n)).toBe(placed.length);
    }
  });

  // PostgreSQL only: a second connection holds the delete open, which PGlite's one connection cannot do.
  const onPostgres = process.env.TEST_DATABASE_URL ? test : test.skip;
  onPostgres(
    "when the product is deleted between an order's check and its stock update, then the order gets the unknown-product 422",
    async () => {
      const buyer = await buildUser(t);
      const product = await buildProduct(t, { stock: 5 });
      const deleting = await t.db.transaction();
      try {
        await deleting('products').where({ id: product.id }).delete();
        // The order sees the product (the delete is not committed) and then waits for its row lock.
        const placing = order(buyer.auth, [{ product_id: product.id, quantity: 1 }]).then((res) => res);
        await untilWaitingOnLock(t.db, 'update "products"%', 'the order');
        await deleting.commit();
        const res = await placing;
        expect({ status: res.status, details: res.body.details }).toEqual({
          status: 422,
          details: [{ location: 'body', path: '/items/0/product_id', message: `product ${product.id} does not exist` }],
        });
        expect(await t.db('orders').where({ user_id: buyer.id })).toEqual([]);
      } finally {
        if (!deleting.isCompleted()) await deleting.rollback();
      }
    },
  );
});
