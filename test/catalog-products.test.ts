import { findProductById } from '../src/data-access/products-repository';
import { buildCategory, buildProduct, buildUser, type TestUser } from './support/factories';
import { expectBodyErrors, dependencyErrorTests, type OperationCall } from './support/http-contract';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
  user = await buildUser(t);
});
afterAll(async () => {
  await t.close();
});

const MISSING_ID = 2147483647;

const fullBody = (overrides: Record<string, unknown> = {}) => ({
  name: unique('Skillet '),
  description: 'Cast iron.',
  price_cents: 3999,
  currency: 'EUR',
  stock: 12,
  category_id: null,
  is_active: true,
  ...overrides,
});

describe('createProduct', () => {
  test('when a superuser posts a product in a category, then it is 201 with Location, ETag and the category nested', async () => {
    const category = await buildCategory(t);
    const body = fullBody({ category_id: category.id });
    const res = await t.request.post('/api/v1/products').set(admin.auth).send(body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ...body,
      category: { id: category.id, name: category.name, slug: category.slug },
    });
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/products/${res.body.id}$`));
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect(await findProductById(t.db, res.body.id)).toMatchObject({ name: body.name, priceCents: 3999, stock: 12 });
  });

  test('when only the required fields are sent, then stock is 0, the product is active and has no category', async () => {
    const name = unique('Minimal ');
    const res = await t.request
      .post('/api/v1/products')
      .set(admin.auth)
      .send({ name, price_cents: 0, currency: 'USD' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name,
      stock: 0,
      is_active: true,
      description: null,
      category_id: null,
      category: null,
    });
  });

  test('when price or stock is negative or the currency is not 3 capitals, then it is 422 naming each field', async () => {
    const name = unique('Invalid ');
    const res = await t.request
      .post('/api/v1/products')
      .set(admin.auth)
      .send({ name, price_cents: -1, stock: -5, currency: 'eur' });
    expect(res.status).toBe(422);
    const paths = res.body.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['/price_cents', '/stock', '/currency']));
    expect(await t.db('products').where({ name }).first()).toBeUndefined();
  });

  test('when the category does not exist, then it is 422 naming /category_id', async () => {
    const res = await t.request
      .post('/api/v1/products')
      .set(admin.auth)
      .send(fullBody({ category_id: MISSING_ID }));
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([{ location: 'body', path: '/category_id', message: 'no category has this id' }]);
  });

  test('when the database is asked directly for a negative stock, then its CHECK constraint refuses', async () => {
    const product = await buildProduct(t);
    await expect(t.db('products').where({ id: product.id }).update({ stock: -1 })).rejects.toMatchObject({
      code: '23514',
    });
    await expect(t.db('products').where({ id: product.id }).update({ price_cents: -1 })).rejects.toMatchObject({
      code: '23514',
    });
  });

  test('when a non-superuser or nobody posts, then it is 403 or 401 and nothing is stored', async () => {
    const body = fullBody();
    expect((await t.request.post('/api/v1/products').set(user.auth).send(body)).status).toBe(403);
    expect((await t.request.post('/api/v1/products').send(body)).status).toBe(401);
    expect(await t.db('products').where({ name: body.name }).first()).toBeUndefined();
  });
});

describe('getProduct', () => {
  test('when the product is active, then anyone gets it with a strong ETag', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id });
    const res = await t.request.get(`/api/v1/products/${product.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, category: { id: category.id, slug: category.slug } });
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  test('when If-None-Match carries the current ETag, then it is 304 with no body, and after a change 200 with a new ETag', async () => {
    const product = await buildProduct(t);
    const first = await t.request.get(`/api/v1/products/${product.id}`);
    const etag = String(first.headers.etag);

    const notModified = await t.request.get(`/api/v1/products/${product.id}`).set('If-None-Match', etag);
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);

    const inList = await t.request.get(`/api/v1/products/${product.id}`).set('If-None-Match', `"other", W/${etag}`);
    expect(inList.status).toBe(304);

    await t.request
      .patch(`/api/v1/products/${product.id}`)
      .set(admin.auth)
      .send({ stock: product.stock + 1 });
    const changed = await t.request.get(`/api/v1/products/${product.id}`).set('If-None-Match', etag);
    expect(changed.status).toBe(200);
    expect(changed.body.stock).toBe(product.stock + 1);
    expect(changed.headers.etag).not.toBe(etag);
  });

  test('when the product is inactive, then it is 404 to users and anonymous callers but visible to superusers', async () => {
    const product = await buildProduct(t, { isActive: false });
    expect((await t.request.get(`/api/v1/products/${product.id}`)).status).toBe(404);
    const asUser = await t.request.get(`/api/v1/products/${product.id}`).set(user.auth);
    expect([asUser.status, asUser.body.error_code]).toEqual([404, 'PRODUCT_NOT_FOUND']);
    const asAdmin = await t.request.get(`/api/v1/products/${product.id}`).set(admin.auth);
    expect([asAdmin.status, asAdmin.body.is_active]).toEqual([200, false]);
  });

  test('when the product does not exist or the id is invalid, then it is 404 or 422', async () => {
    expect((await t.request.get(`/api/v1/products/${MISSING_ID}`)).status).toBe(404);
    expect((await t.request.get('/api/v1/products/-3')).status).toBe(422);
  });

  test('when the optional token is invalid or its user deactivated, then it is 401 or 403', async () => {
    const product = await buildProduct(t);
    const bad = await t.request.get(`/api/v1/products/${product.id}`).set('Authorization', 'Bearer nope');
    expect([bad.status, bad.body.error_code]).toEqual([401, 'INVALID_TOKEN']);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.get(`/api/v1/products/${product.id}`).set(inactive.auth)).status).toBe(403);
  });
});

describe('replaceProduct', () => {
  test('when every writable field is sent, then all are replaced and updated_at moves', async () => {
    const product = await buildProduct(t, { description: 'Old' });
    const category = await buildCategory(t);
    const body = fullBody({ category_id: category.id, description: null, price_cents: 1, stock: 0, is_active: false });
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(admin.auth).send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...body, id: product.id, category: { id: category.id } });
    expect(res.headers.etag).toBeDefined();
    const stored = await findProductById(t.db, product.id);
    expect(stored).toMatchObject({ name: body.name, description: null, priceCents: 1, stock: 0, isActive: false });
    expect(stored?.updatedAt.getTime()).toBeGreaterThan(product.updatedAt.getTime());
  });

  test('when a writable field is missing, then it is 422 and nothing changes', async () => {
    const product = await buildProduct(t);
    const partial: Record<string, unknown> = fullBody();
    delete partial.stock;
    const res = await t.request.put(`/api/v1/products/${product.id}`).set(admin.auth).send(partial);
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ path: '/stock' }));
    expect((await findProductById(t.db, product.id))?.name).toBe(product.name);
  });

  test('when the product does not exist, then it is 404', async () => {
    const res = await t.request.put(`/api/v1/products/${MISSING_ID}`).set(admin.auth).send(fullBody());
    expect([res.status, res.body.error_code]).toEqual([404, 'PRODUCT_NOT_FOUND']);
  });

  test('when a non-superuser or nobody replaces, then it is 403 or 401', async () => {
    const product = await buildProduct(t);
    expect((await t.request.put(`/api/v1/products/${product.id}`).set(user.auth).send(fullBody())).status).toBe(403);
    expect((await t.request.put(`/api/v1/products/${product.id}`).send(fullBody())).status).toBe(401);
    expect((await findProductById(t.db, product.id))?.name).toBe(product.name);
  });
});

describe('updateProduct', () => {
  test('when some fields are sent, then only they change and updated_at moves', async () => {
    const product = await buildProduct(t, { description: 'Keep me', priceCents: 500 });
    const res = await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({ price_cents: 450 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: product.id, name: product.name, description: 'Keep me', price_cents: 450 });
    const stored = await findProductById(t.db, product.id);
    expect(stored).toMatchObject({ priceCents: 450, description: 'Keep me', stock: product.stock });
    expect(stored?.updatedAt.getTime()).toBeGreaterThan(product.updatedAt.getTime());
  });

  test('when category_id is set to null, then the product leaves its category', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id });
    const res = await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({ category_id: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ category_id: null, category: null });
    expect((await findProductById(t.db, product.id))?.categoryId).toBeNull();
  });

  test('when the body is empty or has an unknown field, then it is 422', async () => {
    const product = await buildProduct(t);
    expect((await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({})).status).toBe(422);
    const extra = await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({ id: 5, stock: 1 });
    expect(extra.status).toBe(422);
    expect((await findProductById(t.db, product.id))?.stock).toBe(product.stock);
  });

  test('when the product does not exist, then it is 404', async () => {
    const res = await t.request.patch(`/api/v1/products/${MISSING_ID}`).set(admin.auth).send({ stock: 1 });
    expect([res.status, res.body.error_code]).toEqual([404, 'PRODUCT_NOT_FOUND']);
  });

  test('when a non-superuser or nobody patches, then it is 403 or 401', async () => {
    const product = await buildProduct(t);
    expect((await t.request.patch(`/api/v1/products/${product.id}`).set(user.auth).send({ stock: 0 })).status).toBe(
      403,
    );
    expect((await t.request.patch(`/api/v1/products/${product.id}`).send({ stock: 0 })).status).toBe(401);
    expect((await findProductById(t.db, product.id))?.stock).toBe(product.stock);
  });
});

describe('deleteProduct', () => {
  test('when no order mentions the product, then it is 204 and gone', async () => {
    const product = await buildProduct(t);
    const res = await t.request.delete(`/api/v1/products/${product.id}`).set(admin.auth);
    expect(res.status).toBe(204);
    expect(await findProductById(t.db, product.id)).toBeUndefined();
  });

  test('when an order mentions the product, then it is 409 PRODUCT_IN_USE, it stays, and the order keeps its snapshot', async () => {
    const product = await buildProduct(t, { priceCents: 250 });
    const order = await t.request
      .post('/api/v1/orders')
      .set(user.auth)
      .send({ items: [{ product_id: product.id, quantity: 2 }] });
    expect(order.status).toBe(201);

    const res = await t.request.delete(`/api/v1/products/${product.id}`).set(admin.auth);
    expect([res.status, res.body.error_code]).toEqual([409, 'PRODUCT_IN_USE']);
    expect(await findProductById(t.db, product.id)).toBeDefined();

    await t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({ name: 'Renamed', price_cents: 999 });
    const kept = await t.request.get(`/api/v1/orders/${order.body.id}`).set(user.auth);
    expect(kept.body.items).toEqual([
      { product_id: product.id, product_name: product.name, unit_price_cents: 250, quantity: 2, line_total_cents: 500 },
    ]);
  });

  test('when the product does not exist, then it is 404', async () => {
    const res = await t.request.delete(`/api/v1/products/${MISSING_ID}`).set(admin.auth);
    expect([res.status, res.body.error_code]).toEqual([404, 'PRODUCT_NOT_FOUND']);
  });

  test('when a non-superuser or nobody deletes, or the id is invalid, then it is 403, 401 or 422', async () => {
    const product = await buildProduct(t);
    expect((await t.request.delete(`/api/v1/products/${product.id}`).set(user.auth)).status).toBe(403);
    expect((await t.request.delete(`/api/v1/products/${product.id}`)).status).toBe(401);
    expect((await t.request.delete('/api/v1/products/1.5').set(admin.auth)).status).toBe(422);
    expect(await findProductById(t.db, product.id)).toBeDefined();
  });
});

describe('request and dependency errors', () => {
  test('when a product body is broken, of the wrong type or too large, then it is 400, 415 or 413', async () => {
    const product = await buildProduct(t);
    await expectBodyErrors(t, 'post', '/api/v1/products', admin.auth);
    await expectBodyErrors(t, 'put', `/api/v1/products/${product.id}`, admin.auth);
    await expectBodyErrors(t, 'patch', `/api/v1/products/${product.id}`, admin.auth);
  });

  const operations: OperationCall[] = [
    { operationId: 'listProducts', send: (app) => app.request.get('/api/v1/products') },
    { operationId: 'getProduct', send: (app) => app.request.get('/api/v1/products/1') },
    {
      operationId: 'createProduct',
      send: (app, auth) => app.request.post('/api/v1/products').set(auth).send(fullBody()),
    },
    {
      operationId: 'replaceProduct',
      send: (app, auth) => app.request.put('/api/v1/products/1').set(auth).send(fullBody()),
    },
    {
      operationId: 'updateProduct',
      send: (app, auth) => app.request.patch('/api/v1/products/1').set(auth).send({ stock: 1 }),
    },
    { operationId: 'deleteProduct', send: (app, auth) => app.request.delete('/api/v1/products/1').set(auth) },
  ];

  dependencyErrorTests('product operation', operations);
});
