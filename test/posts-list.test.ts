import { buildPost, buildUser, type TestUser } from './support/factories';
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

const ids = (res: { body: { items: { id: number }[] } }) => res.body.items.map((item) => item.id);
const list = (query: Record<string, string | number | boolean>) => t.request.get('/api/v1/posts').query(query);

describe('listPosts', () => {
  test('when an author is given, then their published posts come newest first with the author nested', async () => {
    const author = await buildUser(t);
    const older = await buildPost(t, author);
    const newer = await buildPost(t, author);
    await buildPost(t, author, { published: false });
    const res = await list({ author_id: author.id });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([newer.id, older.id]);
    expect(res.body).toMatchObject({ total: 2, skip: 0, limit: 100, has_more: false });
    expect(res.body.items[0].author).toEqual({ id: author.id, username: author.username, full_name: author.fullName });
  });

  test('when q is given, then it matches title or body case-insensitively and literally', async () => {
    const tag = unique('pelican');
    const author = await buildUser(t);
    const inTitle = await buildPost(t, author, { title: `About ${tag.toUpperCase()}` });
    const inBody = await buildPost(t, author, { body: `I saw a ${tag} today.` });
    await buildPost(t, author, { title: 'Unrelated' });
    await buildPost(t, author, { title: `Draft about ${tag}`, published: false });
    expect(ids(await list({ q: tag, sort: 'created_at' }))).toEqual([inTitle.id, inBody.id]);
    expect(ids(await list({ q: `${tag}%` }))).toEqual([]);
  });

  test('when sorted by title and paged, then pages follow with a stable id tie-break', async () => {
    const author = await buildUser(t);
    const b = await buildPost(t, author, { title: 'b' });
    const a1 = await buildPost(t, author, { title: 'a' });
    const a2 = await buildPost(t, author, { title: 'a' });
    const first = await list({ author_id: author.id, sort: 'title', limit: 2 });
    expect(ids(first)).toEqual([a1.id, a2.id]);
    expect(first.body).toMatchObject({ total: 3, has_more: true });
    expect(ids(await list({ author_id: author.id, sort: 'title', limit: 2, skip: 2 }))).toEqual([b.id]);
    expect(ids(await list({ author_id: author.id, sort: '-updated_at' }))).toEqual([a2.id, a1.id, b.id]);
  });

  test('when an author asks for published=false, then they get their own drafts only', async () => {
    const [author, other] = [await buildUser(t), await buildUser(t)];
    const draft = await buildPost(t, author, { published: false });
    await buildPost(t, author);
    await buildPost(t, other, { published: false });
    const res = await list({ published: false }).set(author.auth);
    expect(ids(res)).toEqual([draft.id]);
    expect(res.body.items[0].published).toBe(false);
    const others = await list({ published: false, author_id: other.id }).set(author.auth);
    expect(others.body).toMatchObject({ items: [], total: 0 });
  });

  test('when an anonymous caller asks for published=false, then the page is empty', async () => {
    const author = await buildUser(t);
    await buildPost(t, author, { published: false });
    const res = await list({ published: false, author_id: author.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [], total: 0, has_more: false });
  });

  test("when a superuser asks for published=false, then they see anyone's drafts", async () => {
    const author = await buildUser(t);
    const draft = await buildPost(t, author, { published: false });
    expect(ids(await list({ published: false, author_id: author.id }).set(admin.auth))).toEqual([draft.id]);
  });

  test('when sort or published is not allowed, or a parameter is repeated, then it is 422', async () => {
    expect((await list({ sort: 'body' })).status).toBe(422);
    expect((await list({ published: 'maybe' })).status).toBe(422);
    expect((await t.request.get('/api/v1/posts?author_id=1&author_id=2')).status).toBe(422);
  });

  test('when the token is invalid or its user deactivated, then it is 401 or 403', async () => {
    expect((await t.request.get('/api/v1/posts').set('Authorization', 'Bearer bad')).status).toBe(401);
    const inactive = await buildUser(t, { isActive: false });
    expect((await t.request.get('/api/v1/posts').set(inactive.auth)).status).toBe(403);
  });
});
