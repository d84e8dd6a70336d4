import { buildCategory, buildProduct, buildUser, type TestUser } from './support/factories';
import { startTestApp, unique, type TestApp } from './support/test-app';

// listProducts reuses exact totals counted under the catalog version; every write must show in the very next total.
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
const total = async (query: Query): Promise<number> => {
  const res = await t.request.get('/api/v1/products').query(query);
  expect(res.status).toBe(200);
  return res.body.total as number;
};
const patch = (id: number, body: object) =>
  t.request.patch(`/api/v1/products/${id}`).set(admin.auth).send(body).expect(200);
const catalogVersion = async () =>
  Number(((await t.db('catalog_version').first('version')) as { version: number | string }).version);

describe('listProducts totals under the catalog version', () => {
  test('when a product is created through the API, then the very next list counts it', async () => {
    const category = await buildCategory(t);
    await buildProduct(t, { categoryId: category.id });
    expect(await total({ category_id: category.id })).toBe(1);
    await t.request
      .post('/api/v1/products')
      .set(admin.auth)
      .send({ name: unique('Created '), price_cents: 500, currency: 'EUR', stock: 1, category_id: category.id })
      .expect(201);
    expect(await total({ category_id: category.id })).toBe(2);
  });

  test('when a product is written straight to the database, as another instance would, then the next list counts it', async () => {
    const category = await buildCategory(t);
    expect(await total({ category_id: category.id })).toBe(0);
    await buildProduct(t, { categoryId: category.id });
    expect(await total({ category_id: category.id })).toBe(1);
  });

  test('when the price changes, then the next list within a price range reflects it', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id, priceCents: 150 });
    await buildProduct(t, { categoryId: category.id, priceCents: 120 });
    const range = { category_id: category.id, min_price_cents: 100, max_price_cents: 200 };
    expect(await total(range)).toBe(2);
    await patch(product.id, { price_cents: 900 });
    expect(await total(range)).toBe(1);
  });

  test('when the stock runs out, then the next in_stock list reflects it', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id, stock: 2 });
    expect(await total({ category_id: category.id, in_stock: true })).toBe(1);
    await patch(product.id, { stock: 0 });
    expect(await total({ category_id: category.id, in_stock: true })).toBe(0);
    expect(await total({ category_id: category.id, in_stock: false })).toBe(1);
  });

  test('when a product is deactivated, then the next public list no longer counts it', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id });
    await buildProduct(t, { categoryId: category.id });
    expect(await total({ category_id: category.id })).toBe(2);
    await patch(product.id, { is_active: false });
    expect(await total({ category_id: category.id })).toBe(1);
  });

  test('when a product moves to another category, then both categories are counted anew', async () => {
    const [from, to] = [await buildCategory(t), await buildCategory(t)];
    const product = await buildProduct(t, { categoryId: from.id });
    expect([await total({ category_id: from.id }), await total({ category_id: to.id })]).toEqual([1, 0]);
    await patch(product.id, { category_id: to.id });
    expect([await total({ category_id: from.id }), await total({ category_id: to.id })]).toEqual([0, 1]);
  });

  test('when a product is renamed to match a search, then the next search counts it', async () => {
    const term = unique('term').toLowerCase();
    const product = await buildProduct(t);
    expect(await total({ q: term })).toBe(0);
    await patch(product.id, { name: `Renamed ${term}` });
    expect(await total({ q: term })).toBe(1);
  });

  test('when a product is deleted, then the next list no longer counts it, also on a page past the end', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id });
    await buildProduct(t, { categoryId: category.id });
    expect(await total({ category_id: category.id, skip: 5 })).toBe(2);
    await t.request.delete(`/api/v1/products/${product.id}`).set(admin.auth).expect(204);
    expect(await total({ category_id: category.id, skip: 5 })).toBe(1);
    expect(await total({ category_id: category.id })).toBe(1);
  });

  test('when only stock changes, as an order taking stock does, then the catalog version stays', async () => {
    const product = await buildProduct(t, { stock: 5 });
    const version = async (tx: typeof t.db) =>
      Number(((await tx('catalog_version').forUpdate().first('version')) as { version: number | string }).version);
    await t.db.transaction(async (tx) => {
      // Holding the version row keeps other test files' writes from bumping it meanwhile.
      const before = await version(tx);
      await tx('products').where({ id: product.id }).update({ stock: 3 });
      expect(await version(tx)).toBe(before);
      await tx('products').where({ id: product.id }).update({ price_cents: 1234 });
      expect(await version(tx)).toBe(before + 1);
    });
  });

  test('when nothing was written between two equal lists, then the second one runs a single query', async () => {
    const category = await buildCategory(t);
    await buildProduct(t, { categoryId: category.id });
    const queries: string[] = [];
    const record = (query: { sql: string }) => queries.push(query.sql);
    t.db.on('query', record);
    try {
      // Other test files may write products on a shared database; retry until a quiet window is seen.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const before = await catalogVersion();
        expect(await total({ category_id: category.id })).toBe(1);
        queries.length = 0;
        expect(await total({ category_id: category.id })).toBe(1);
        const listed = queries.length;
        if ((await catalogVersion()) === before) {
          expect(listed).toBe(1);
          return;
        }
      }
      throw new Error('the catalog version never held still for two lists');
    } finally {
      t.db.off('query', record);
    }
  });
});
