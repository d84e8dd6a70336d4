import { findProductById } from '../src/data-access/products-repository';
import { buildProduct, buildUser, type TestUser } from './support/factories';
import { expectBodyErrors, dependencyErrorTests, type OperationCall } from './support/http-contract';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
});
afterAll(async () => {
  await t.close();
});

const MISSING_ID = 2147483647;

/** Places an order through the API and returns its body. */
async function placeOrder(buyer: TestUser, lines: { productId: number; quantity: number }[]) {
  const res = await t.request
    .post('/api/v1/orders')
    .set(buyer.auth)
    .send({ items: lines.map((line) => ({ product_id: line.productId, quantity: line.quantity })) });
  expect(res.status).toBe(201);
  return res.body as { id: number; total_cents: number; status: string };
}

const setStatus = (id: number, status: string, auth = admin.auth) =>
  t.request.patch(`/api/v1/orders/${id}`).set(auth).send({ status });
const statusInDb = async (id: number) => (await t.db('orders').where({ id }).first())?.status;
const stockOf = async (id: number) => (await findProductById(t.db, id))?.stock;

describe('listOrders', () => {
  test('when a user lists, then only their own orders come, newest first, each with its items', async () => {
    const [buyer, other] = [await buildUser(t), await buildUser(t)];
    const product = await buildProduct(t, { priceCents: 100 });
    const older = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const newer = await placeOrder(buyer, [{ productId: product.id, quantity: 2 }]);
    await placeOrder(other, [{ productId: product.id, quantity: 1 }]);
    const res = await t.request.get('/api/v1/orders').set(buyer.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 2, skip: 0, limit: 100, has_more: false });
    expect(res.body.items.map((o: { id: number }) => o.id)).toEqual([newer.id, older.id]);
    expect(res.body.items[0].items).toEqual([
      { product_id: product.id, product_name: product.name, unit_price_cents: 100, quantity: 2, line_total_cents: 200 },
    ]);
  });

  test('when a user filters on another user_id, then the page is empty', async () => {
    const [buyer, other] = [await buildUser(t), await buildUser(t)];
    const product = await buildProduct(t);
    await placeOrder(other, [{ productId: product.id, quantity: 1 }]);
    const res = await t.request.get('/api/v1/orders').query({ user_id: other.id }).set(buyer.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [], total: 0 });
  });

  test('when a superuser filters on user_id and status, then exactly those orders come', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const paid = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    await setStatus(paid.id, 'paid');
    const all = await t.request.get('/api/v1/orders').query({ user_id: buyer.id }).set(admin.auth);
    expect(all.body.total).toBe(2);
    const onlyPaid = await t.request.get('/api/v1/orders').query({ user_id: buyer.id, status: 'paid' }).set(admin.auth);
    expect(onlyPaid.body.items.map((o: { id: number }) => o.id)).toEqual([paid.id]);
  });

  test('when sorted by total_cents and paged, then the order and envelope follow', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { priceCents: 10, stock: 100 });
    const two = await placeOrder(buyer, [{ productId: product.id, quantity: 2 }]);
    const five = await placeOrder(buyer, [{ productId: product.id, quantity: 5 }]);
    const one = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const page = await t.request.get('/api/v1/orders').query({ sort: '-total_cents', limit: 2 }).set(buyer.auth);
    expect(page.body.items.map((o: { id: number }) => o.id)).toEqual([five.id, two.id]);
    expect(page.body).toMatchObject({ total: 3, has_more: true });
    const asc = await t.request.get('/api/v1/orders').query({ sort: 'total_cents,created_at' }).set(buyer.auth);
    expect(asc.body.items.map((o: { id: number }) => o.id)).toEqual([one.id, two.id, five.id]);
  });

  test('when a page holds more orders, then the number of queries stays the same (no N+1)', async () => {
    const [few, many] = [await buildUser(t), await buildUser(t)];
    const [p1, p2] = [await buildProduct(t, { stock: 100 }), await buildProduct(t, { stock: 100 })];
    await placeOrder(few, [{ productId: p1.id, quantity: 1 }]);
    for (let i = 0; i < 8; i += 1) {
      await placeOrder(many, [
        { productId: p1.id, quantity: 1 },
        { productId: p2.id, quantity: 1 },
      ]);
    }
    const countQueries = async (buyer: TestUser) => {
      let queries = 0;
      const onQuery = () => {
        queries += 1;
      };
      t.db.on('query', onQuery);
      try {
        const res = await t.request.get('/api/v1/orders').set(buyer.auth);
        expect(res.status).toBe(200);
        return { queries, orders: res.body.items.length as number };
      } finally {
        t.db.removeListener('query', onQuery);
      }
    };
    const small = await countQueries(few);
    const large = await countQueries(many);
    expect([small.orders, large.orders]).toEqual([1, 8]);
    expect(large.queries).toBe(small.queries);
    expect(large.queries).toBeLessThanOrEqual(4);
  });

  test('when the status filter or sort is not allowed, then it is 422', async () => {
    const buyer = await buildUser(t);
    expect((await t.request.get('/api/v1/orders').query({ status: 'lost' }).set(buyer.auth)).status).toBe(422);
    expect((await t.request.get('/api/v1/orders').query({ sort: 'status' }).set(buyer.auth)).status).toBe(422);
    expect((await t.request.get('/api/v1/orders?user_id=1&user_id=2').set(buyer.auth)).status).toBe(422);
  });

  test('when nobody is logged in or the account is deactivated, then it is 401 or 403', async () => {
    expect((await t.request.get('/api/v1/orders')).status).toBe(401);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.get('/api/v1/orders').set(inactive.auth)).status).toBe(403);
  });
});

describe('getOrder', () => {
  test('when the owner or a superuser asks, then they get the order', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const own = await t.request.get(`/api/v1/orders/${placed.id}`).set(buyer.auth);
    expect(own.status).toBe(200);
    expect(own.body).toEqual(placed);
    expect((await t.request.get(`/api/v1/orders/${placed.id}`).set(admin.auth)).body.id).toBe(placed.id);
  });

  test("when another user asks for someone's order, then it is 404 ORDER_NOT_FOUND, as if it did not exist", async () => {
    const [buyer, stranger] = [await buildUser(t), await buildUser(t)];
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const res = await t.request.get(`/api/v1/orders/${placed.id}`).set(stranger.auth);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('ORDER_NOT_FOUND');
    const missing = await t.request.get(`/api/v1/orders/${MISSING_ID}`).set(stranger.auth);
    expect(missing.body.message).toBe(res.body.message);
  });

  test('when nobody is logged in, the token is deactivated or the id invalid, then it is 401, 403 or 422', async () => {
    expect((await t.request.get('/api/v1/orders/1')).status).toBe(401);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.get('/api/v1/orders/1').set(inactive.auth)).status).toBe(403);
    expect((await t.request.get('/api/v1/orders/abc').set(admin.auth)).status).toBe(422);
  });
});

describe('cancelOrder', () => {
  test('when the owner cancels a pending order, then it is cancelled and every item goes back into stock', async () => {
    const buyer = await buildUser(t);
    const [a, b] = [await buildProduct(t, { stock: 5 }), await buildProduct(t, { stock: 5 })];
    const placed = await placeOrder(buyer, [
      { productId: b.id, quantity: 2 },
      { productId: a.id, quantity: 3 },
    ]);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([2, 3]);
    const res = await t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(buyer.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: placed.id, status: 'cancelled', total_cents: placed.total_cents });
    expect(await statusInDb(placed.id)).toBe('cancelled');
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([5, 5]);
  });

  test('when a paid order is cancelled, then it restocks too', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 4 });
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 4 }]);
    await setStatus(placed.id, 'paid');
    expect((await t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(buyer.auth)).status).toBe(200);
    expect(await stockOf(product.id)).toBe(4);
  });

  test('when the order is already cancelled or shipped, then it is 409 INVALID_STATUS_TRANSITION and stock stays', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 10 });
    const cancelled = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    await t.request.post(`/api/v1/orders/${cancelled.id}/cancel`).set(buyer.auth);
    const twice = await t.request.post(`/api/v1/orders/${cancelled.id}/cancel`).set(buyer.auth);
    expect([twice.status, twice.body.error_code]).toEqual([409, 'INVALID_STATUS_TRANSITION']);
    expect(await stockOf(product.id)).toBe(10);

    const shipped = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    await setStatus(shipped.id, 'paid');
    await setStatus(shipped.id, 'shipped');
    const late = await t.request.post(`/api/v1/orders/${shipped.id}/cancel`).set(buyer.auth);
    expect([late.status, late.body.error_code]).toEqual([409, 'INVALID_STATUS_TRANSITION']);
    expect(await statusInDb(shipped.id)).toBe('shipped');
    expect(await stockOf(product.id)).toBe(9);
  });

  test("when another user cancels someone's order, then it is 404 and the order stays pending", async () => {
    const [buyer, stranger] = [await buildUser(t), await buildUser(t)];
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const res = await t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(stranger.auth);
    expect([res.status, res.body.error_code]).toEqual([404, 'ORDER_NOT_FOUND']);
    expect(await statusInDb(placed.id)).toBe('pending');
  });

  test("when a superuser cancels someone's order, then it is cancelled", async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    expect((await t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(admin.auth)).status).toBe(200);
    expect(await statusInDb(placed.id)).toBe('cancelled');
  });

  test('when nobody is logged in, the token is deactivated or the id invalid, then it is 401, 403 or 422', async () => {
    expect((await t.request.post('/api/v1/orders/1/cancel')).status).toBe(401);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.post('/api/v1/orders/1/cancel').set(inactive.auth)).status).toBe(403);
    expect((await t.request.post('/api/v1/orders/0/cancel').set(admin.auth)).status).toBe(422);
  });

  test('when one order is cancelled four times at once, then one is 200, the rest 409 and stock comes back once', async () => {
    const buyer = await buildUser(t);
    for (let round = 0; round < 5; round += 1) {
      const product = await buildProduct(t, { stock: 5 });
      const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 3 }]);
      const results = await Promise.all([
        t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(buyer.auth),
        t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(buyer.auth),
        t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(admin.auth),
        setStatus(placed.id, 'cancelled'),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
      for (const res of results.filter((r) => r.status === 409)) {
        expect(res.body.error_code).toBe('INVALID_STATUS_TRANSITION');
      }
      expect(await statusInDb(placed.id)).toBe('cancelled');
      expect(await stockOf(product.id)).toBe(5);
    }
  });
});

describe('updateOrderStatus', () => {
  test('when a superuser walks an order pending -> paid -> shipped -> delivered, then each step is stored', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    for (const status of ['paid', 'shipped', 'delivered']) {
      const res = await setStatus(placed.id, status);
      expect([res.status, res.body.status]).toEqual([200, status]);
      expect(await statusInDb(placed.id)).toBe(status);
    }
  });

  test('when a step is skipped or goes backwards, then it is 409 INVALID_STATUS_TRANSITION and the status stays', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const skip = await setStatus(placed.id, 'shipped');
    expect([skip.status, skip.body.error_code]).toEqual([409, 'INVALID_STATUS_TRANSITION']);
    expect(skip.body.message).toBe('An order cannot go from pending to shipped.');
    await setStatus(placed.id, 'paid');
    expect((await setStatus(placed.id, 'pending')).status).toBe(409);
    expect((await setStatus(placed.id, 'paid')).status).toBe(409);
    expect(await statusInDb(placed.id)).toBe('paid');
  });

  test('when a superuser sets cancelled, then it restocks like cancelOrder', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 3 });
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 3 }]);
    expect((await setStatus(placed.id, 'cancelled')).status).toBe(200);
    expect(await stockOf(product.id)).toBe(3);
  });

  test('when the owner (not a superuser) patches the status, then it is 403 and nothing changes', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t);
    const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 1 }]);
    const res = await setStatus(placed.id, 'paid', buyer.auth);
    expect([res.status, res.body.error_code]).toEqual([403, 'FORBIDDEN']);
    expect(await statusInDb(placed.id)).toBe('pending');
  });

  test('when nobody is logged in, then it is 401', async () => {
    expect((await t.request.patch('/api/v1/orders/1').send({ status: 'paid' })).status).toBe(401);
  });

  test('when the order does not exist, then it is 404', async () => {
    const res = await setStatus(MISSING_ID, 'paid');
    expect([res.status, res.body.error_code]).toEqual([404, 'ORDER_NOT_FOUND']);
  });

  test('when the status is unknown or extra fields come, then it is 422', async () => {
    expect((await setStatus(1, 'lost')).status).toBe(422);
    expect(
      (await t.request.patch('/api/v1/orders/1').set(admin.auth).send({ status: 'paid', total_cents: 1 })).status,
    ).toBe(422);
  });

  test('when the body is broken, of the wrong type or too large, then it is 400, 415 or 413', async () => {
    await expectBodyErrors(t, 'patch', '/api/v1/orders/1', admin.auth);
  });

  test('when a cancel races shipping a paid order, then exactly one applies and stock comes back only if it was cancelled', async () => {
    const buyer = await buildUser(t);
    for (let round = 0; round < 5; round += 1) {
      const product = await buildProduct(t, { stock: 6 });
      const placed = await placeOrder(buyer, [{ productId: product.id, quantity: 2 }]);
      expect((await setStatus(placed.id, 'paid')).status).toBe(200);
      const [cancelled, shipped] = await Promise.all([
        t.request.post(`/api/v1/orders/${placed.id}/cancel`).set(buyer.auth),
        setStatus(placed.id, 'shipped'),
      ]);
      expect([cancelled.status, shipped.status].sort()).toEqual([200, 409]);
      const loser = cancelled.status === 409 ? cancelled : shipped;
      expect(loser.body.error_code).toBe('INVALID_STATUS_TRANSITION');
      const final = cancelled.status === 200 ? 'cancelled' : 'shipped';
      expect(await statusInDb(placed.id)).toBe(final);
      expect(await stockOf(product.id)).toBe(final === 'cancelled' ? 6 : 4);
    }
  });
});

describe('dependency errors', () => {
  const operations: OperationCall[] = [
    { operationId: 'listOrders', send: (app, auth) => app.request.get('/api/v1/orders').set(auth) },
    {
      operationId: 'createOrder',
      send: (app, auth) =>
        app.request
          .post('/api/v1/orders')
          .set(auth)
          .send({ items: [{ product_id: 1, quantity: 1 }] }),
    },
    { operationId: 'getOrder', send: (app, auth) => app.request.get('/api/v1/orders/1').set(auth) },
    { operationId: 'cancelOrder', send: (app, auth) => app.request.post('/api/v1/orders/1/cancel').set(auth) },
    {
      operationId: 'updateOrderStatus',
      send: (app, auth) => app.request.patch('/api/v1/orders/1').set(auth).send({ status: 'paid' }),
    },
  ];

  dependencyErrorTests('order operation', operations);
});
