import { createApiClient, type ApiClient, type ApiSchemas } from '../src/client';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { startTestApp, unique, type TestApp } from './support/test-app';

// The main user journey, driven only through the typed client: a drift between the spec, the generated types and
// the server fails here. Each step is one test that reads and extends the shared state; add steps at the end.
type Journey = {
  anonymous: ApiClient;
  admin: ApiClient;
  user: ApiClient;
  username: string;
  tokens: ApiSchemas['TokenPair'];
  product: ApiSchemas['Product'];
  order: ApiSchemas['Order'];
  post: ApiSchemas['Post'];
};

let t: TestApp;
const journey: Partial<Journey> = {};
const need = <K extends keyof Journey>(key: K): Journey[K] => {
  const value = journey[key];
  if (value === undefined) throw new Error(`an earlier step did not set ${key}`);
  return value as Journey[K];
};

beforeAll(async () => {
  t = await startTestApp();
  const admin = await buildUser(t, { isSuperuser: true });
  journey.anonymous = createApiClient(t.url);
  journey.admin = createApiClient(t.url, admin.token);
});
afterAll(async () => {
  await t.close();
});

describe('the main journey through the typed client', () => {
  test('when a visitor registers, then the account is created with a Location', async () => {
    const username = unique('journey');
    const { data, response } = await need('anonymous').POST('/api/v1/users', {
      body: { email: `${username}@example.com`, username, full_name: 'Journey Tester', password: VALID_PASSWORD },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ username, is_active: true, is_superuser: false });
    expect(response.headers.get('Location')).toBe(`${t.url}/api/v1/users/${data?.id}`);
    journey.username = username;
  });

  test('when the new user logs in, then a bearer token pair comes back', async () => {
    const { data, response } = await need('anonymous').POST('/api/v1/auth/login', {
      body: { username: need('username'), password: VALID_PASSWORD },
    });
    expect(response.status).toBe(200);
    expect(data?.token_type).toBe('bearer');
    journey.tokens = data;
    journey.user = createApiClient(t.url, data?.access_token);
  });

  test('when the user asks who they are, then their own account is returned', async () => {
    const { data, response } = await need('user').GET('/api/v1/users/me');
    expect(response.status).toBe(200);
    expect(data?.username).toBe(need('username'));
  });

  test('when the user refreshes, then a new token pair replaces the spent one', async () => {
    const spent = need('tokens').refresh_token;
    const { data, response } = await need('anonymous').POST('/api/v1/auth/refresh', { body: { refresh_token: spent } });
    expect(response.status).toBe(200);
    expect(data?.refresh_token).not.toBe(spent);
    journey.tokens = data;
    journey.user = createApiClient(t.url, data?.access_token);
  });

  test('when a superuser stocks the catalog, then visitors find the product by search', async () => {
    const slug = unique('journey-cat').toLowerCase();
    const category = await need('admin').POST('/api/v1/categories', { body: { name: `Journey ${slug}`, slug } });
    expect(category.response.status).toBe(201);
    const name = `Journey kettle ${slug}`;
    const created = await need('admin').POST('/api/v1/products', {
      body: { name, price_cents: 2599, currency: 'EUR', stock: 5, category_id: category.data?.id },
    });
    expect(created.response.status).toBe(201);

    const { data, response } = await need('anonymous').GET('/api/v1/products', {
      params: { query: { q: slug, in_stock: true, sort: '-price_cents' } },
    });
    expect(response.status).toBe(200);
    expect(data?.items.map((p) => p.name)).toEqual([name]);
    journey.product = data?.items[0];
  });

  test('when the user orders the product, then the order is pending at catalog prices and stock goes down', async () => {
    const product = need('product');
    const { data, response } = await need('user').POST('/api/v1/orders', {
      params: { header: { 'Idempotency-Key': unique('order') } },
      body: { items: [{ product_id: product.id, quantity: 2 }] },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ status: 'pending', total_cents: 2 * product.price_cents, currency: 'EUR' });
    const after = await need('anonymous').GET('/api/v1/products/{product_id}', {
      params: { path: { product_id: product.id } },
    });
    expect(after.data?.stock).toBe(product.stock - 2);
    journey.order = data;
  });

  test('when the user cancels the order, then it is cancelled and listed as such', async () => {
    const order = need('order');
    const { data, response } = await need('user').POST('/api/v1/orders/{order_id}/cancel', {
      params: { path: { order_id: order.id } },
    });
    expect(response.status).toBe(200);
    expect(data?.status).toBe('cancelled');
    const listed = await need('user').GET('/api/v1/orders', { params: { query: { status: 'cancelled' } } });
    expect(listed.data?.items.map((o) => o.id)).toContain(order.id);
  });

  test('when the user writes a published post, then anyone can read it with its author', async () => {
    const title = `Journey notes ${unique()}`;
    const { data, response } = await need('user').POST('/api/v1/posts', {
      body: { title, body: 'Ordered a kettle, then changed my mind.', published: true },
    });
    expect(response.status).toBe(201);
    const read = await need('anonymous').GET('/api/v1/posts/{post_id}', {
      params: { path: { post_id: data?.id ?? 0 } },
    });
    expect(read.data).toMatchObject({ title, published: true, author: { username: need('username') } });
    journey.post = data;
  });

  test('when the user logs out, then the session can no longer refresh', async () => {
    const refresh_token = need('tokens').refresh_token;
    const logout = await need('user').POST('/api/v1/auth/logout', { body: { refresh_token } });
    expect(logout.response.status).toBe(204);
    const { error, response } = await need('anonymous').POST('/api/v1/auth/refresh', { body: { refresh_token } });
    expect(response.status).toBe(401);
    expect(error?.error_code).toBe('INVALID_REFRESH_TOKEN');
  });
});
