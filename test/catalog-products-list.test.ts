import { buildCategory, buildProduct, buildUser, type TestUser } from './support/factories';
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

const ids = (res: { body: { items: { id: number }[] } }) => res.body.items.map((item) => item.id);
const list = (query: Record<string, string | number | boolean>) => t.request.get('/api/v1/products').query(query);

describe('listProducts filters', () => {
  test('when filtered by category, then only that category is listed with its category nested, by id', async () => {
    const category = await buildCategory(t);
    const first = await buildProduct(t, { categoryId: category.id });
    const second = await buildProduct(t, { categoryId: category.id });
    await buildProduct(t);
    const res = await list({ category_id: category.id });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([first.id, second.id]);
    expect(res.body).toMatchObject({ total: 2, skip: 0, limit: 100, has_more: false });
    expect(res.body.items[0].category).toEqual({ id: category.id, name: category.name, slug: category.slug });
  });

  test('when min_price_cents and max_price_cents are given, then both bounds are inclusive', async () => {
    const category = await buildCategory(t);
    const [cheap, low, high, dear] = [
      await buildProduct(t, { categoryId: category.id, priceCents: 99 }),
      await buildProduct(t, { categoryId: category.id, priceCents: 100 }),
      await buildProduct(t, { categoryId: category.id, priceCents: 200 }),
      await buildProduct(t, { categoryId: category.id, priceCents: 201 }),
    ];
    const res = await list({ category_id: category.id, min_price_cents: 100, max_price_cents: 200 });
    expect(ids(res)).toEqual([low.id, high.id]);
    expect(ids(await list({ category_id: category.id, min_price_cents: 201 }))).toEqual([dear.id]);
    expect(ids(await list({ category_id: category.id, max_price_cents: 99 }))).toEqual([cheap.id]);
  });

  test('when min_price_cents exceeds max_price_cents, then it is 422 naming /min_price_cents', async () => {
    const res = await list({ min_price_cents: 500, max_price_cents: 100 });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
    expect(res.body.details).toEqual([
      { location: 'query', path: '/min_price_cents', message: 'must not exceed max_price_cents' },
    ]);
  });

  test('when in_stock is true or false, then the string is coerced and products are split on stock > 0', async () => {
    const category = await buildCategory(t);
    const stocked = await buildProduct(t, { categoryId: category.id, stock: 3 });
    const empty = await buildProduct(t, { categoryId: category.id, stock: 0 });
    expect(ids(await t.request.get(`/api/v1/products?category_id=${category.id}&in_stock=true`))).toEqual([stocked.id]);
    expect(ids(await t.request.get(`/api/v1/products?category_id=${category.id}&in_stock=false`))).toEqual([empty.id]);
  });

  test('when q is given, then it matches name or description case-insensitively', async () => {
    const tag = unique('zebra');
    const byName = await buildProduct(t, { name: `Striped ${tag.toUpperCase()} mug` });
    const byDescription = await buildProduct(t, { description: `A ${tag} on a plate.` });
    await buildProduct(t, { name: 'Plain mug' });
    const res = await list({ q: tag });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([byName.id, byDescription.id]);
  });

  test('when q contains % or _, then they are matched literally, not as wildcards', async () => {
    const tag = unique('pct');
    const literal = await buildProduct(t, { name: `${tag} 100% wool_blend` });
    await buildProduct(t, { name: `${tag} 1000 woolxblend` });
    expect(ids(await list({ q: `${tag} 100% wool_` }))).toEqual([literal.id]);
    expect(ids(await list({ q: `${tag}%` }))).toEqual([]);
  });

  test('when filters are combined, then they all apply together', async () => {
    const category = await buildCategory(t);
    const tag = unique('combo');
    const match = await buildProduct(t, { categoryId: category.id, name: `${tag} one`, priceCents: 500, stock: 1 });
    await buildProduct(t, { categoryId: category.id, name: `${tag} two`, priceCents: 500, stock: 0 });
    await buildProduct(t, { categoryId: category.id, name: `${tag} three`, priceCents: 5000, stock: 1 });
    await buildProduct(t, { categoryId: category.id, name: 'other', priceCents: 500, stock: 1 });
    const res = await list({ category_id: category.id, q: tag, max_price_cents: 1000, in_stock: true });
    expect(ids(res)).toEqual([match.id]);
    expect(res.body.total).toBe(1);
  });
});

describe('listProducts visibility', () => {
  test('when an anonymous caller or a user lists, then inactive products are left out', async () => {
    const category = await buildCategory(t);
    const active = await buildProduct(t, { categoryId: category.id });
    await buildProduct(t, { categoryId: category.id, isActive: false });
    expect(ids(await list({ category_id: category.id }))).toEqual([active.id]);
    expect(ids(await list({ category_id: category.id }).set(user.auth))).toEqual([active.id]);
  });

  test('when a non-superuser asks for is_active=false, then the page is empty', async () => {
    const category = await buildCategory(t);
    await buildProduct(t, { categoryId: category.id, isActive: false });
    const res = await list({ category_id: category.id, is_active: false }).set(user.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [], total: 0, has_more: false });
  });

  test('when a superuser lists, then inactive products are included and is_active filters them', async () => {
    const category = await buildCategory(t);
    const active = await buildProduct(t, { categoryId: category.id });
    const inactive = await buildProduct(t, { categoryId: category.id, isActive: false });
    expect(ids(await list({ category_id: category.id }).set(admin.auth))).toEqual([active.id, inactive.id]);
    expect(ids(await list({ category_id: category.id, is_active: false }).set(admin.auth))).toEqual([inactive.id]);
    expect(ids(await list({ category_id: category.id, is_active: true }).set(admin.auth))).toEqual([active.id]);
  });

  test('when the optional token is invalid, then it is 401 rather than an anonymous listing', async () => {
    const res = await t.request.get('/api/v1/products').set('Authorization', 'Bearer not-a-token');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('INVALID_TOKEN');
  });

  test('when the token belongs to a deactivated user, then it is 403', async () => {
    const inactive = await buildUser(t, { isActive: false });
    const res = await t.request.get('/api/v1/products').set(inactive.auth);
    expect([res.status, res.body.error_code]).toEqual([403, 'INACTIVE_USER']);
  });
});

describe('listProducts sorting and paging', () => {
  test('when sorted by -price_cents, then ties fall back to id in the same direction', async () => {
    const category = await buildCategory(t);
    const a = await buildProduct(t, { categoryId: category.id, priceCents: 300 });
    const b = await buildProduct(t, { categoryId: category.id, priceCents: 500 });
    const c = await buildProduct(t, { categoryId: category.id, priceCents: 300 });
    const res = await list({ category_id: category.id, sort: '-price_cents' });
    expect(ids(res)).toEqual([b.id, c.id, a.id]);
  });

  test('when sorted by several fields, then each applies in turn', async () => {
    const category = await buildCategory(t);
    const a = await buildProduct(t, { categoryId: category.id, name: 'b', priceCents: 100 });
    const b = await buildProduct(t, { categoryId: category.id, name: 'a', priceCents: 200 });
    const c = await buildProduct(t, { categoryId: category.id, name: 'a', priceCents: 100 });
    expect(ids(await list({ category_id: category.id, sort: 'name,-price_cents' }))).toEqual([b.id, c.id, a.id]);
    expect(ids(await list({ category_id: category.id, sort: 'price_cents,name' }))).toEqual([c.id, a.id, b.id]);
    expect(ids(await list({ category_id: category.id, sort: '-created_at' }))).toEqual([c.id, b.id, a.id]);
  });

  test('when paging with skip and limit, then pages are disjoint and the envelope counts all matches', async () => {
    const category = await buildCategory(t);
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push((await buildProduct(t, { categoryId: category.id, priceCents: 100 })).id);
    const first = await list({ category_id: category.id, sort: 'price_cents', limit: 2 });
    const last = await list({ category_id: category.id, sort: 'price_cents', limit: 2, skip: 4 });
    expect(first.body).toMatchObject({ total: 5, skip: 0, limit: 2, has_more: true });
    expect(ids(first)).toEqual(made.slice(0, 2));
    expect(last.body).toMatchObject({ total: 5, skip: 4, limit: 2, has_more: false });
    expect(ids(last)).toEqual(made.slice(4));
  });

  test('when sorted by a field that is not whitelisted or twice by one field, then it is 422 naming /sort', async () => {
    for (const sort of ['stock', 'price_cents;drop table products', 'name,name', '-']) {
      const res = await list({ sort });
      expect({ sort, status: res.status }).toEqual({ sort, status: 422 });
      expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'query', path: '/sort' }));
    }
  });

  test('when a scalar parameter is repeated or not a number, then it is 422, never a 500', async () => {
    expect((await t.request.get('/api/v1/products?in_stock=true&in_stock=false')).status).toBe(422);
    expect((await t.request.get('/api/v1/products?category_id=1&category_id=2')).status).toBe(422);
    expect((await t.request.get('/api/v1/products?min_price_cents=abc')).status).toBe(422);
    expect((await t.request.get('/api/v1/products?q=')).status).toBe(422);
    expect((await list({ q: 'lamp\nshade' })).status).toBe(422);
    expect((await t.request.get('/api/v1/products?limit=1001')).status).toBe(422);
  });
});

describe('query strings as clients write them', () => {
  test('when sort uses a literal comma and q a plus for a space, then both are accepted as documented', async () => {
    const t = await startTestApp();
    try {
      const res = await t.request.get('/api/v1/products?sort=-price_cents,name&q=cast+iron&limit=5');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ skip: 0, limit: 5 });
    } finally {
      await t.close();
    }
  });
});
