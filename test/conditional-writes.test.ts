import type supertest from 'supertest';
import { buildCategory, buildPost, buildProduct, buildUser, type TestUser } from './support/factories';
import { eventually } from './support/eventually';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
let otherAdmin: TestUser;
let author: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
  otherAdmin = await buildUser(t, { isSuperuser: true });
  author = await buildUser(t);
});
afterAll(async () => {
  await t.close();
});

const MISSING_ID = 2147483647;
const STRONG_ETAG = /^"[A-Za-z0-9_-]+"$/;
const PRECONDITION_FAILED = {
  error_code: 'PRECONDITION_FAILED',
  message: expect.any(String),
  timestamp: expect.any(String),
  request_id: expect.any(String),
};
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

/**
 * Sends the requests at once. On PostgreSQL they are first held behind a test transaction's lock on the row until
 * each of them waits on a lock, so they surely overlap inside the database; PGlite's one connection takes them in
 * turn whatever happens. The assertions hold for any order, so the gate only makes the race certain.
 */
async function atOnce(table: string, id: number, requests: (() => supertest.Test)[]): Promise<supertest.Response[]> {
  if (!onPostgres) return Promise.all(requests.map((send) => send()));
  const holder = await t.db.transaction();
  try {
    await holder(table).select('id').where({ id }).forUpdate();
    const answered = Promise.all(requests.map((send) => send().then((res) => res)));
    await eventually(
      async () => {
        const waiting = (await t.db.raw(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and wait_event_type = 'Lock'`,
        )) as { rows: { n: number }[] };
        return (waiting.rows[0]?.n ?? 0) >= requests.length ? true : undefined;
      },
      10_000,
      'the requests never waited for the row lock',
    );
    await holder.commit();
    return await answered;
  } finally {
    if (!holder.isCompleted()) await holder.rollback();
  }
}

type Auth = { Authorization: string };

/** What the shared cases need to know of one kind of resource. */
type Kind = {
  table: 'products' | 'categories' | 'posts';
  field: 'name' | 'title';
  path: (id: number) => string;
  create: () => Promise<number>;
  /** Two callers allowed to change it: two superusers for the catalog, the author and a superuser for a post. */
  editors: () => [Auth, Auth];
};

const KINDS: [string, Kind][] = [
  [
    'products',
    {
      table: 'products',
      field: 'name',
      path: (id) => `/api/v1/products/${id}`,
      create: async () => (await buildProduct(t)).id,
      editors: () => [admin.auth, otherAdmin.auth],
    },
  ],
  [
    'categories',
    {
      table: 'categories',
      field: 'name',
      path: (id) => `/api/v1/categories/${id}`,
      create: async () => (await buildCategory(t)).id,
      editors: () => [admin.auth, otherAdmin.auth],
    },
  ],
  [
    'posts',
    {
      table: 'posts',
      field: 'title',
      path: (id) => `/api/v1/posts/${id}`,
      create: async () => (await buildPost(t, author)).id,
      editors: () => [author.auth, admin.auth],
    },
  ],
];

describe.each(KINDS)('conditional writes of %s', (_name, kind) => {
  const [editor, secondEditor] = [() => kind.editors()[0], () => kind.editors()[1]];
  const stored = async (id: number): Promise<string | undefined> =>
    (await t.db(kind.table).where({ id }).first())?.[kind.field];
  const etagOf = async (id: number): Promise<string> => {
    const res = await t.request.get(kind.path(id)).set(editor());
    expect(res.status).toBe(200);
    return String(res.headers.etag);
  };
  const patch = (id: number, value: string, ifMatch?: string, auth = editor()) => {
    const req = t.request.patch(kind.path(id)).set(auth);
    if (ifMatch !== undefined) req.set('If-Match', ifMatch);
    return req.send({ [kind.field]: value });
  };

  test('when it is read, then the answer carries a strong ETag that stays the same while it is unchanged', async () => {
    const id = await kind.create();
    const first = await t.request.get(kind.path(id)).set(editor());
    expect(first.status).toBe(200);
    expect(first.headers.etag).toMatch(STRONG_ETAG);
    expect(await etagOf(id)).toBe(first.headers.etag);
  });

  test('when If-Match carries the current ETag, then the change is 200 with a new ETag, the one a read then answers', async () => {
    const id = await kind.create();
    const before = await etagOf(id);
    const value = unique('Matched ');
    const res = await patch(id, value, before);
    expect(res.status).toBe(200);
    expect(res.body[kind.field]).toBe(value);
    expect(res.headers.etag).toMatch(STRONG_ETAG);
    expect(res.headers.etag).not.toBe(before);
    expect(await etagOf(id)).toBe(res.headers.etag);
    expect(await stored(id)).toBe(value);
  });

  test('when If-Match carries a stale ETag, then it is 412 PRECONDITION_FAILED and the row keeps the newer change', async () => {
    const id = await kind.create();
    const stale = await etagOf(id);
    const newer = unique('Newer ');
    expect((await patch(id, newer, undefined, secondEditor())).status).toBe(200);
    const res = await patch(id, unique('Lost '), stale);
    expect(res.status).toBe(412);
    expect(res.body).toEqual(PRECONDITION_FAILED);
    expect(await stored(id)).toBe(newer);
  });

  test('when If-Match carries the weak form of the current ETag, then it is 412, since If-Match compares strongly', async () => {
    const id = await kind.create();
    const before = await stored(id);
    const res = await patch(id, unique('Weak '), `W/${await etagOf(id)}`);
    expect([res.status, res.body.error_code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect(await stored(id)).toBe(before);
  });

  test('when If-Match lists the current ETag among others, then the change is 200', async () => {
    const id = await kind.create();
    const value = unique('Listed ');
    const res = await patch(id, value, `"not-it", ${await etagOf(id)} , W/"other"`);
    expect(res.status).toBe(200);
    expect(await stored(id)).toBe(value);
  });

  test('when If-Match is *, then the change is 200 on an existing one and 404 on a missing one', async () => {
    const id = await kind.create();
    const value = unique('Any ');
    expect((await patch(id, value, '*')).status).toBe(200);
    expect(await stored(id)).toBe(value);
    expect((await patch(MISSING_ID, value, '*')).status).toBe(404);
  });

  test('when If-Match is absent, then the change is unconditional: 200 with the new ETag', async () => {
    const id = await kind.create();
    const value = unique('Plain ');
    const res = await patch(id, value);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe(await etagOf(id));
    expect(await stored(id)).toBe(value);
  });

  test('when If-Match is not a list of quoted tags, then it is 422 naming the header and nothing changes', async () => {
    const id = await kind.create();
    const before = await stored(id);
    const res = await patch(id, unique('Bare '), 'bare-token');
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'header' }));
    expect(await stored(id)).toBe(before);
  });

  test('when two editors send the same ETag at once, then exactly one gets 200, the other 412, and the row holds the winner’s change', async () => {
    const id = await kind.create();
    for (let round = 0; round < 3; round += 1) {
      const tag = await etagOf(id);
      const values = [unique('First '), unique('Second ')];
      const [a, b] = await atOnce(kind.table, id, [
        () => patch(id, values[0] as string, tag, editor()),
        () => patch(id, values[1] as string, tag, secondEditor()),
      ]);
      const statuses = [a?.status, b?.status];
      expect([...statuses].sort()).toEqual([200, 412]);
      const winner = statuses.indexOf(200);
      expect([a, b][1 - winner]?.body.error_code).toBe('PRECONDITION_FAILED');
      expect(await stored(id)).toBe(values[winner]);
      expect(await etagOf(id)).toBe([a, b][winner]?.headers.etag);
    }
  });

  test('when a delete carries a stale ETag, then it is 412 and the row stays; with the current one it is 204 and gone', async () => {
    const id = await kind.create();
    const stale = await etagOf(id);
    expect((await patch(id, unique('Moved on '))).status).toBe(200);
    const refused = await t.request.delete(kind.path(id)).set(editor()).set('If-Match', stale);
    expect([refused.status, refused.body.error_code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect(await stored(id)).toBeDefined();
    const deleted = await t.request
      .delete(kind.path(id))
      .set(editor())
      .set('If-Match', await etagOf(id));
    expect(deleted.status).toBe(204);
    expect(await stored(id)).toBeUndefined();
  });

  test('when an edit and a delete send the same ETag at once, then exactly one succeeds and the other is 412 or 404', async () => {
    const id = await kind.create();
    const tag = await etagOf(id);
    const value = unique('Raced ');
    const [edited, deleted] = await atOnce(kind.table, id, [
      () => patch(id, value, tag, secondEditor()),
      () => t.request.delete(kind.path(id)).set(editor()).set('If-Match', tag),
    ]);
    if (edited?.status === 200) {
      expect([deleted?.status, deleted?.body.error_code]).toEqual([412, 'PRECONDITION_FAILED']);
      expect(await stored(id)).toBe(value);
    } else {
      expect([deleted?.status, edited?.status]).toEqual([204, 404]);
      expect(await stored(id)).toBeUndefined();
    }
  });
});

describe('conditional writes of products, beyond the shared cases', () => {
  const replacement = (categoryId: number | null = null) => ({
    name: unique('Replaced '),
    description: null,
    price_cents: 2500,
    currency: 'EUR',
    stock: 3,
    category_id: categoryId,
    is_active: true,
  });

  test('when a product is created, then the 201 carries the ETag a read then answers', async () => {
    const res = await t.request
      .post('/api/v1/products')
      .set(admin.auth)
      .send({ name: unique('New '), price_cents: 100, currency: 'EUR' });
    expect(res.status).toBe(201);
    const read = await t.request.get(`/api/v1/products/${res.body.id}`);
    expect(read.headers.etag).toBe(res.headers.etag);
  });

  test('when PUT carries the current ETag, then it is 200; with a stale one 412 and the product is unchanged', async () => {
    const product = await buildProduct(t);
    const first = await t.request.get(`/api/v1/products/${product.id}`);
    const body = replacement();
    const replaced = await t.request
      .put(`/api/v1/products/${product.id}`)
      .set(admin.auth)
      .set('If-Match', String(first.headers.etag))
      .send(body);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject(body);
    const stale = await t.request
      .put(`/api/v1/products/${product.id}`)
      .set(admin.auth)
      .set('If-Match', String(first.headers.etag))
      .send(replacement());
    expect([stale.status, stale.body.error_code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await t.db('products').where({ id: product.id }).first()).name).toBe(body.name);
  });

  test('when its category is renamed, then the product’s ETag changes and an If-Match with the old one is 412', async () => {
    const category = await buildCategory(t);
    const product = await buildProduct(t, { categoryId: category.id });
    const before = String((await t.request.get(`/api/v1/products/${product.id}`)).headers.etag);
    const renamed = await t.request
      .patch(`/api/v1/categories/${category.id}`)
      .set(admin.auth)
      .send({ name: unique('Renamed ') });
    expect(renamed.status).toBe(200);
    const after = await t.request.get(`/api/v1/products/${product.id}`);
    expect(after.headers.etag).not.toBe(before);
    const res = await t.request
      .patch(`/api/v1/products/${product.id}`)
      .set(admin.auth)
      .set('If-Match', before)
      .send({ stock: 1 });
    expect(res.status).toBe(412);
    expect((await t.db('products').where({ id: product.id }).first()).stock).toBe(product.stock);
  });

  test('when an order takes stock, then the product’s ETag changes, so an edit based on the old stock is 412', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 5 });
    const before = String((await t.request.get(`/api/v1/products/${product.id}`)).headers.etag);
    const ordered = await t.request
      .post('/api/v1/orders')
      .set(buyer.auth)
      .send({ items: [{ product_id: product.id, quantity: 2 }] });
    expect(ordered.status).toBe(201);
    const res = await t.request
      .patch(`/api/v1/products/${product.id}`)
      .set(admin.auth)
      .set('If-Match', before)
      .send({ stock: 10 });
    expect(res.status).toBe(412);
    expect((await t.db('products').where({ id: product.id }).first()).stock).toBe(3);
  });

  test('when two unconditional PATCHes change different fields at once, then both are 200 and both changes are kept', async () => {
    const product = await buildProduct(t, { priceCents: 1000, stock: 10 });
    const name = unique('Both ');
    const [renamed, repriced] = await atOnce('products', product.id, [
      () => t.request.patch(`/api/v1/products/${product.id}`).set(admin.auth).send({ name }),
      () => t.request.patch(`/api/v1/products/${product.id}`).set(otherAdmin.auth).send({ price_cents: 1234 }),
    ]);
    expect([renamed?.status, repriced?.status]).toEqual([200, 200]);
    expect(await t.db('products').where({ id: product.id }).first()).toMatchObject({ name, price_cents: 1234 });
  });

  test('when an order is placed while the product is deleted at once, then either the order is 201 and the delete 409 PRODUCT_IN_USE, or the delete 204 and the order 422', async () => {
    const buyer = await buildUser(t);
    const product = await buildProduct(t, { stock: 5 });
    const [ordered, deleted] = await atOnce('products', product.id, [
      () =>
        t.request
          .post('/api/v1/orders')
          .set(buyer.auth)
          .send({ items: [{ product_id: product.id, quantity: 1 }] }),
      () => t.request.delete(`/api/v1/products/${product.id}`).set(admin.auth),
    ]);
    const row = await t.db('products').where({ id: product.id }).first();
    if (ordered?.status === 201) {
      expect([deleted?.status, deleted?.body.error_code]).toEqual([409, 'PRODUCT_IN_USE']);
      expect(row?.stock).toBe(4);
    } else {
      expect([deleted?.status, ordered?.status]).toEqual([204, 422]);
      expect(row).toBeUndefined();
      expect(await t.db('orders').where({ user_id: buyer.id })).toEqual([]);
    }
  });
});

describe('conditional writes of categories and posts, beyond the shared cases', () => {
  test('when a category or a post is created, then the 201 carries the ETag a read then answers', async () => {
    const category = await t.request
      .post('/api/v1/categories')
      .set(admin.auth)
      .send({ name: 'Etag', slug: unique('etag-') });
    expect(category.status).toBe(201);
    expect((await t.request.get(`/api/v1/categories/${category.body.id}`)).headers.etag).toBe(category.headers.etag);
    const post = await t.request
      .post('/api/v1/posts')
      .set(author.auth)
      .send({ title: unique('Etag '), body: 'x' });
    expect(post.status).toBe(201);
    expect((await t.request.get(`/api/v1/posts/${post.body.id}`).set(author.auth)).headers.etag).toBe(
      post.headers.etag,
    );
  });

  test('when a product is created in a category while it is deleted at once, then either the product is 201 and the delete 409 CATEGORY_IN_USE, or the delete 204 and the product 422', async () => {
    const category = await buildCategory(t);
    const name = unique('Racing ');
    const [created, deleted] = await atOnce('categories', category.id, [
      () =>
        t.request
          .post('/api/v1/products')
          .set(admin.auth)
          .send({ name, price_cents: 100, currency: 'EUR', category_id: category.id }),
      () => t.request.delete(`/api/v1/categories/${category.id}`).set(otherAdmin.auth),
    ]);
    if (created?.status === 201) {
      expect([deleted?.status, deleted?.body.error_code]).toEqual([409, 'CATEGORY_IN_USE']);
      expect(await t.db('categories').where({ id: category.id }).first()).toBeDefined();
    } else {
      expect([deleted?.status, created?.status]).toEqual([204, 422]);
      expect(await t.db('products').where({ name }).first()).toBeUndefined();
    }
  });

  test('when a stranger sends the current ETag of someone’s post, then it is still 403 and nothing changes', async () => {
    const stranger = await buildUser(t);
    const post = await buildPost(t, author);
    const tag = String((await t.request.get(`/api/v1/posts/${post.id}`)).headers.etag);
    const res = await t.request
      .patch(`/api/v1/posts/${post.id}`)
      .set(stranger.auth)
      .set('If-Match', tag)
      .send({ title: 'Hijacked' });
    expect([res.status, res.body.error_code]).toEqual([403, 'FORBIDDEN']);
    expect((await t.db('posts').where({ id: post.id }).first()).title).toBe(post.title);
  });
});
