import { findCategoryById } from '../src/data-access/categories-repository';
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

describe('createCategory', () => {
  test('when a superuser posts a valid category, then it is 201 with Location and the category is stored', async () => {
    const slug = unique('kitchen');
    const res = await t.request
      .post('/api/v1/categories')
      .set(admin.auth)
      .send({ name: 'Kitchen', slug, description: 'Pots and pans.' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Kitchen', slug, description: 'Pots and pans.' });
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/categories/${res.body.id}$`));
    expect(await findCategoryById(t.db, res.body.id)).toMatchObject({ name: 'Kitchen', slug });
  });

  test('when the description is left out, then it is stored as null', async () => {
    const res = await t.request
      .post('/api/v1/categories')
      .set(admin.auth)
      .send({ name: 'Garden', slug: unique('garden') });
    expect(res.status).toBe(201);
    expect(res.body.description).toBeNull();
    expect((await findCategoryById(t.db, res.body.id))?.description).toBeNull();
  });

  test('when the slug is taken, then it is 409 SLUG_TAKEN and no second category exists', async () => {
    const existing = await buildCategory(t);
    const res = await t.request.post('/api/v1/categories').set(admin.auth).send({ name: 'Copy', slug: existing.slug });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('SLUG_TAKEN');
    expect(await t.db('categories').where({ slug: existing.slug }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('when two creates with one slug race, then exactly one is created and the other is 409', async () => {
    const slug = unique('race');
    const send = () => t.request.post('/api/v1/categories').set(admin.auth).send({ name: 'Race', slug });
    const results = await Promise.all([send(), send()]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await t.db('categories').where({ slug }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('when the slug has capitals and spaces, then it is 422 naming /slug and nothing is stored', async () => {
    const name = unique('Bad');
    const res = await t.request.post('/api/v1/categories').set(admin.auth).send({ name, slug: 'Not A Slug' });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'body', path: '/slug' }));
    expect(await t.db('categories').where({ name }).first()).toBeUndefined();
  });

  test('when the body has an unknown field, then it is 422, never silently applied', async () => {
    const slug = unique('extra');
    const res = await t.request.post('/api/v1/categories').set(admin.auth).send({ name: 'Extra', slug, id: 1 });
    expect(res.status).toBe(422);
    expect(await t.db('categories').where({ slug }).first()).toBeUndefined();
  });

  test('when a non-superuser posts, then it is 403 FORBIDDEN and nothing is stored', async () => {
    const slug = unique('nope');
    const res = await t.request.post('/api/v1/categories').set(user.auth).send({ name: 'Nope', slug });
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('FORBIDDEN');
    expect(await t.db('categories').where({ slug }).first()).toBeUndefined();
  });

  test('when nobody is logged in, then it is 401 with WWW-Authenticate', async () => {
    const res = await t.request.post('/api/v1/categories').send({ name: 'Anon', slug: unique('anon') });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('listCategories', () => {
  test('when filtered by q and sorted by -name, then the page holds exactly those categories in order with the envelope', async () => {
    const tag = unique('shelf');
    const [b, a, c] = [
      await buildCategory(t, { name: `${tag} b` }),
      await buildCategory(t, { name: `${tag} a` }),
      await buildCategory(t, { name: `${tag} c` }),
    ];
    const first = await t.request.get('/api/v1/categories').query({ q: tag.toUpperCase(), sort: '-name', limit: 2 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total: 3, skip: 0, limit: 2, has_more: true });
    expect(first.body.items.map((x: { id: number }) => x.id)).toEqual([c?.id, b?.id]);
    const second = await t.request.get('/api/v1/categories').query({ q: tag, sort: '-name', limit: 2, skip: 2 });
    expect(second.body).toMatchObject({ total: 3, skip: 2, limit: 2, has_more: false });
    expect(second.body.items.map((x: { id: number }) => x.id)).toEqual([a?.id]);
  });

  test('when q contains % and _, then they match literally', async () => {
    const tag = unique('pct');
    const literal = await buildCategory(t, { name: `${tag} 100% cotton_x` });
    await buildCategory(t, { name: `${tag} 1000 cottonyx` });
    const res = await t.request.get('/api/v1/categories').query({ q: `${tag} 100% cotton_` });
    expect(res.status).toBe(200);
    expect(res.body.items.map((x: { id: number }) => x.id)).toEqual([literal.id]);
  });

  test('when sorted by a field that is not whitelisted, then it is 422 naming /sort', async () => {
    const res = await t.request.get('/api/v1/categories').query({ sort: 'description' });
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'query', path: '/sort' }));
  });

  test('when limit is out of range or skip repeated, then it is 422, not a 500', async () => {
    expect((await t.request.get('/api/v1/categories?limit=1001')).status).toBe(422);
    expect((await t.request.get('/api/v1/categories?limit=0')).status).toBe(422);
    expect((await t.request.get('/api/v1/categories?skip=1&skip=2')).status).toBe(422);
  });
});

describe('getCategory', () => {
  test('when the category exists, then anyone gets it', async () => {
    const category = await buildCategory(t, { description: 'Shown.' });
    const res = await t.request.get(`/api/v1/categories/${category.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: category.id,
      name: category.name,
      slug: category.slug,
      description: 'Shown.',
      created_at: category.createdAt.toISOString(),
      updated_at: category.updatedAt.toISOString(),
    });
  });

  test('when the category does not exist, then it is 404 CATEGORY_NOT_FOUND', async () => {
    const res = await t.request.get(`/api/v1/categories/${MISSING_ID}`);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('CATEGORY_NOT_FOUND');
  });

  test('when the id is not a positive int4, then it is 422', async () => {
    expect((await t.request.get('/api/v1/categories/0')).status).toBe(422);
    expect((await t.request.get('/api/v1/categories/abc')).status).toBe(422);
    expect((await t.request.get('/api/v1/categories/2147483648')).status).toBe(422);
  });
});

describe('updateCategory', () => {
  test('when a superuser patches one field, then only it changes and updated_at moves', async () => {
    const category = await buildCategory(t, { description: 'Old.' });
    const res = await t.request
      .patch(`/api/v1/categories/${category.id}`)
      .set(admin.auth)
      .send({ description: 'New.' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: category.id, name: category.name, slug: category.slug, description: 'New.' });
    const stored = await findCategoryById(t.db, category.id);
    expect(stored?.description).toBe('New.');
    expect(stored?.updatedAt.getTime()).toBeGreaterThan(category.updatedAt.getTime());
  });

  test('when the new slug is taken, then it is 409 SLUG_TAKEN and the category keeps its slug', async () => {
    const [category, other] = [await buildCategory(t), await buildCategory(t)];
    const res = await t.request.patch(`/api/v1/categories/${category.id}`).set(admin.auth).send({ slug: other.slug });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('SLUG_TAKEN');
    expect((await findCategoryById(t.db, category.id))?.slug).toBe(category.slug);
  });

  test('when the category does not exist, then it is 404', async () => {
    const res = await t.request.patch(`/api/v1/categories/${MISSING_ID}`).set(admin.auth).send({ name: 'Ghost' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('CATEGORY_NOT_FOUND');
  });

  test('when the body is empty, then it is 422', async () => {
    const category = await buildCategory(t);
    const res = await t.request.patch(`/api/v1/categories/${category.id}`).set(admin.auth).send({});
    expect(res.status).toBe(422);
  });

  test('when a non-superuser or nobody patches, then it is 403 or 401 and nothing changes', async () => {
    const category = await buildCategory(t);
    expect((await t.request.patch(`/api/v1/categories/${category.id}`).set(user.auth).send({ name: 'X' })).status).toBe(
      403,
    );
    expect((await t.request.patch(`/api/v1/categories/${category.id}`).send({ name: 'X' })).status).toBe(401);
    expect((await findCategoryById(t.db, category.id))?.name).toBe(category.name);
  });
});

describe('deleteCategory', () => {
  test('when the category is unused, then it is 204 and gone', async () => {
    const category = await buildCategory(t);
    const res = await t.request.delete(`/api/v1/categories/${category.id}`).set(admin.auth);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await findCategoryById(t.db, category.id)).toBeUndefined();
  });

  test('when a product (even an inactive one) is in it, then it is 409 CATEGORY_IN_USE and it stays', async () => {
    const category = await buildCategory(t);
    await buildProduct(t, { categoryId: category.id, isActive: false });
    const res = await t.request.delete(`/api/v1/categories/${category.id}`).set(admin.auth);
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('CATEGORY_IN_USE');
    expect(await findCategoryById(t.db, category.id)).toBeDefined();
  });

  test('when the category does not exist, then it is 404', async () => {
    const res = await t.request.delete(`/api/v1/categories/${MISSING_ID}`).set(admin.auth);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('CATEGORY_NOT_FOUND');
  });

  test('when a non-superuser or nobody deletes, then it is 403 or 401 and the category stays', async () => {
    const category = await buildCategory(t);
    expect((await t.request.delete(`/api/v1/categories/${category.id}`).set(user.auth)).status).toBe(403);
    expect((await t.request.delete(`/api/v1/categories/${category.id}`)).status).toBe(401);
    expect(await findCategoryById(t.db, category.id)).toBeDefined();
  });

  test('when the id is not an integer, then it is 422', async () => {
    expect((await t.request.delete('/api/v1/categories/x').set(admin.auth)).status).toBe(422);
  });
});

describe('request and dependency errors', () => {
  test('when a category body is broken, of the wrong type or too large, then it is 400, 415 or 413', async () => {
    const category = await buildCategory(t);
    await expectBodyErrors(t, 'post', '/api/v1/categories', admin.auth);
    await expectBodyErrors(t, 'patch', `/api/v1/categories/${category.id}`, admin.auth);
  });

  const operations: OperationCall[] = [
    { operationId: 'listCategories', send: (app) => app.request.get('/api/v1/categories') },
    { operationId: 'getCategory', send: (app) => app.request.get('/api/v1/categories/1') },
    {
      operationId: 'createCategory',
      send: (app, auth) => app.request.post('/api/v1/categories').set(auth).send({ name: 'X', slug: 'x' }),
    },
    {
      operationId: 'updateCategory',
      send: (app, auth) => app.request.patch('/api/v1/categories/1').set(auth).send({ name: 'X' }),
    },
    { operationId: 'deleteCategory', send: (app, auth) => app.request.delete('/api/v1/categories/1').set(auth) },
  ];

  dependencyErrorTests('category operation', operations);
});
