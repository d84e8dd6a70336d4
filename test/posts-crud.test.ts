import { findPostById } from '../src/data-access/posts-repository';
import { buildPost, buildUser, type TestUser } from './support/factories';
import { expectBodyErrors, dependencyErrorTests, type OperationCall } from './support/http-contract';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
let author: TestUser;
let stranger: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
  author = await buildUser(t, { fullName: 'Ada Author' });
  stranger = await buildUser(t);
});
afterAll(async () => {
  await t.close();
});

const MISSING_ID = 2147483647;

describe('createPost', () => {
  test('when a user writes a post, then it is 201 with Location, a draft by default, and the author nested', async () => {
    const title = unique('Title ');
    const res = await t.request.post('/api/v1/posts').set(author.auth).send({ title, body: 'Hello.' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/posts/${res.body.id}$`));
    expect(res.body).toMatchObject({
      title,
      body: 'Hello.',
      published: false,
      author: { id: author.id, username: author.username, full_name: 'Ada Author' },
    });
    expect(res.body.author).not.toHaveProperty('email');
    expect(await findPostById(t.db, res.body.id)).toMatchObject({ title, published: false, author: { id: author.id } });
  });

  test('when published is true, then the post is public at once', async () => {
    const res = await t.request
      .post('/api/v1/posts')
      .set(author.auth)
      .send({ title: 'Out', body: 'Now.', published: true });
    expect(res.status).toBe(201);
    expect((await t.request.get(`/api/v1/posts/${res.body.id}`)).status).toBe(200);
  });

  test('when the title is missing, empty or too long, or an author_id is sent, then it is 422', async () => {
    expect((await t.request.post('/api/v1/posts').set(author.auth).send({ body: 'x' })).status).toBe(422);
    expect((await t.request.post('/api/v1/posts').set(author.auth).send({ title: '', body: 'x' })).status).toBe(422);
    const long = await t.request
      .post('/api/v1/posts')
      .set(author.auth)
      .send({ title: 'x'.repeat(201), body: 'x' });
    expect(long.status).toBe(422);
    const title = unique('Forged ');
    const forged = await t.request
      .post('/api/v1/posts')
      .set(author.auth)
      .send({ title, body: 'x', author_id: admin.id });
    expect(forged.status).toBe(422);
    expect(await t.db('posts').where({ title }).first()).toBeUndefined();
  });

  test('when nobody is logged in or the account is deactivated, then it is 401 or 403', async () => {
    expect((await t.request.post('/api/v1/posts').send({ title: 'x', body: 'x' })).status).toBe(401);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.post('/api/v1/posts').set(inactive.auth).send({ title: 'x', body: 'x' })).status).toBe(403);
  });
});

describe('getPost', () => {
  test('when the post is published, then anyone gets it', async () => {
    const post = await buildPost(t, author);
    const res = await t.request.get(`/api/v1/posts/${post.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: post.id,
      title: post.title,
      body: post.body,
      published: true,
      author: { id: author.id, username: author.username, full_name: 'Ada Author' },
      created_at: post.createdAt.toISOString(),
      updated_at: post.updatedAt.toISOString(),
    });
  });

  test('when the post is a draft, then it is 404 to anonymous callers and other users, visible to its author and superusers', async () => {
    const draft = await buildPost(t, author, { published: false });
    const anonymous = await t.request.get(`/api/v1/posts/${draft.id}`);
    expect([anonymous.status, anonymous.body.error_code]).toEqual([404, 'POST_NOT_FOUND']);
    expect((await t.request.get(`/api/v1/posts/${draft.id}`).set(stranger.auth)).status).toBe(404);
    expect((await t.request.get(`/api/v1/posts/${draft.id}`).set(author.auth)).status).toBe(200);
    expect((await t.request.get(`/api/v1/posts/${draft.id}`).set(admin.auth)).status).toBe(200);
  });

  test('when the post does not exist, the id is invalid or the token is bad, then it is 404, 422 or 401', async () => {
    expect((await t.request.get(`/api/v1/posts/${MISSING_ID}`)).status).toBe(404);
    expect((await t.request.get('/api/v1/posts/zero')).status).toBe(422);
    expect((await t.request.get('/api/v1/posts/1').set('Authorization', 'Bearer bad')).status).toBe(401);
  });

  test('when the token belongs to a deactivated user, then it is 403', async () => {
    const post = await buildPost(t, author);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.get(`/api/v1/posts/${post.id}`).set(inactive.auth)).status).toBe(403);
  });
});

describe('updatePost', () => {
  test('when the author publishes a draft, then it is stored and updated_at moves', async () => {
    const draft = await buildPost(t, author, { published: false });
    const res = await t.request.patch(`/api/v1/posts/${draft.id}`).set(author.auth).send({ published: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: draft.id, title: draft.title, published: true });
    const stored = await findPostById(t.db, draft.id);
    expect(stored?.published).toBe(true);
    expect(stored?.updatedAt.getTime()).toBeGreaterThan(draft.updatedAt.getTime());
  });

  test('when a superuser edits somebody else’s post, then it is allowed', async () => {
    const post = await buildPost(t, author);
    const res = await t.request.patch(`/api/v1/posts/${post.id}`).set(admin.auth).send({ title: 'Moderated' });
    expect([res.status, res.body.title, res.body.author.id]).toEqual([200, 'Moderated', author.id]);
  });

  test('when another user edits a published post, then it is 403 and nothing changes', async () => {
    const post = await buildPost(t, author);
    const res = await t.request.patch(`/api/v1/posts/${post.id}`).set(stranger.auth).send({ title: 'Hijacked' });
    expect([res.status, res.body.error_code]).toEqual([403, 'FORBIDDEN']);
    expect((await findPostById(t.db, post.id))?.title).toBe(post.title);
  });

  test("when another user edits someone's draft, then it is 404, since they cannot see it", async () => {
    const draft = await buildPost(t, author, { published: false });
    const res = await t.request.patch(`/api/v1/posts/${draft.id}`).set(stranger.auth).send({ title: 'Hijacked' });
    expect([res.status, res.body.error_code]).toEqual([404, 'POST_NOT_FOUND']);
    expect((await findPostById(t.db, draft.id))?.title).toBe(draft.title);
  });

  test('when the body is empty or has an unknown field, then it is 422', async () => {
    const post = await buildPost(t, author);
    expect((await t.request.patch(`/api/v1/posts/${post.id}`).set(author.auth).send({})).status).toBe(422);
    expect((await t.request.patch(`/api/v1/posts/${post.id}`).set(author.auth).send({ author_id: 1 })).status).toBe(
      422,
    );
  });

  test('when nobody is logged in or the post does not exist, then it is 401 or 404', async () => {
    expect((await t.request.patch('/api/v1/posts/1').send({ title: 'x' })).status).toBe(401);
    expect((await t.request.patch(`/api/v1/posts/${MISSING_ID}`).set(author.auth).send({ title: 'x' })).status).toBe(
      404,
    );
  });

  test('when the body is broken, of the wrong type or too large, then it is 400, 415 or 413', async () => {
    const post = await buildPost(t, author);
    await expectBodyErrors(t, 'patch', `/api/v1/posts/${post.id}`, author.auth);
    await expectBodyErrors(t, 'post', '/api/v1/posts', author.auth);
  });
});

describe('deletePost', () => {
  test('when the author deletes their post, then it is 204 and gone', async () => {
    const post = await buildPost(t, author);
    const res = await t.request.delete(`/api/v1/posts/${post.id}`).set(author.auth);
    expect(res.status).toBe(204);
    expect(await findPostById(t.db, post.id)).toBeUndefined();
  });

  test('when a superuser deletes somebody else’s draft, then it is 204', async () => {
    const draft = await buildPost(t, author, { published: false });
    expect((await t.request.delete(`/api/v1/posts/${draft.id}`).set(admin.auth)).status).toBe(204);
    expect(await findPostById(t.db, draft.id)).toBeUndefined();
  });

  test('when another user deletes a published post, then it is 403 and it stays; a draft is 404', async () => {
    const post = await buildPost(t, author);
    const draft = await buildPost(t, author, { published: false });
    expect((await t.request.delete(`/api/v1/posts/${post.id}`).set(stranger.auth)).status).toBe(403);
    expect((await t.request.delete(`/api/v1/posts/${draft.id}`).set(stranger.auth)).status).toBe(404);
    expect(await findPostById(t.db, post.id)).toBeDefined();
    expect(await findPostById(t.db, draft.id)).toBeDefined();
  });

  test('when nobody is logged in, the post does not exist or the id is invalid, then it is 401, 404 or 422', async () => {
    expect((await t.request.delete('/api/v1/posts/1')).status).toBe(401);
    expect((await t.request.delete(`/api/v1/posts/${MISSING_ID}`).set(author.auth)).status).toBe(404);
    expect((await t.request.delete('/api/v1/posts/x').set(author.auth)).status).toBe(422);
  });
});

describe('dependency errors', () => {
  const operations: OperationCall[] = [
    { operationId: 'listPosts', send: (app) => app.request.get('/api/v1/posts') },
    { operationId: 'getPost', send: (app) => app.request.get('/api/v1/posts/1') },
    {
      operationId: 'createPost',
      send: (app, auth) => app.request.post('/api/v1/posts').set(auth).send({ title: 'x', body: 'x' }),
    },
    {
      operationId: 'updatePost',
      send: (app, auth) => app.request.patch('/api/v1/posts/1').set(auth).send({ title: 'x' }),
    },
    { operationId: 'deletePost', send: (app, auth) => app.request.delete('/api/v1/posts/1').set(auth) },
  ];

  dependencyErrorTests('post operation', operations);
});
