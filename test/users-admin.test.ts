import { findUserById } from '../src/data-access/users-repository';
import { listOperations, loadSpec } from '../src/http/binding/spec';
import { buildUser, VALID_PASSWORD, type TestUser } from './support/factories';
import { login } from './support/identity';
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

const NEW_PASSWORD = 'Brand-New-Horse-11';

describe('superuser operations', () => {
  const superuserOps = listOperations(loadSpec()).filter((op) => op.access === 'superuser');

  test('when the spec is read, then it marks the user management operations superuser-only', () => {
    expect(superuserOps.map((op) => op.operationId)).toEqual(
      expect.arrayContaining(['listUsers', 'updateUser', 'deleteUser']),
    );
  });

  test.each(superuserOps.map((op) => [op.operationId, op] as const))(
    'when a regular user calls %s, then it is 403 FORBIDDEN and nothing changes',
    async (_id, op) => {
      const user = await buildUser(t);
      const target = await buildUser(t);
      const url = op.path.replace(/\{[^}]+\}/g, String(target.id));
      const res = await t.request[op.method](url).set(user.auth).send({ is_superuser: true, is_active: false });
      expect(res.status).toBe(403);
      expect(res.body.error_code).toBe('FORBIDDEN');
      expect(await findUserById(t.db, target.id)).toMatchObject({ isSuperuser: false, isActive: true });
      expect(await findUserById(t.db, user.id)).toMatchObject({ isSuperuser: false });
    },
  );
});

describe('listUsers', () => {
  async function buildMarked() {
    const marker = unique('lst');
    const make = (suffix: string, fields: Parameters<typeof buildUser>[1]) =>
      buildUser(t, { username: `${marker}${suffix}`, email: `${marker}${suffix}@example.com`, ...fields });
    const users = {
      b: await make('b', { fullName: 'Bea' }),
      a: await make('a', { fullName: 'Abe', isActive: false }),
      c: await make('c', { fullName: 'Cy', isSuperuser: true }),
    };
    return { marker, users };
  }
  const list = (query: Record<string, string | number | boolean>) =>
    t.request.get('/api/v1/users').set(admin.auth).query(query);

  test('when q matches several users, then it is 200 with them in creation order and the page envelope', async () => {
    const { marker, users } = await buildMarked();
    const res = await list({ q: marker.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3, skip: 0, limit: 100, has_more: false });
    expect(res.body.items.map((u: { id: number }) => u.id)).toEqual([users.b.id, users.a.id, users.c.id]);
    expect(res.body.items[0]).toEqual({
      id: users.b.id,
      email: users.b.email,
      username: users.b.username,
      full_name: 'Bea',
      is_active: true,
      is_superuser: false,
      created_at: users.b.createdAt.toISOString(),
      updated_at: users.b.updatedAt.toISOString(),
    });
  });

  test('when sorted by -username and paged, then the order, total and has_more follow', async () => {
    const { marker, users } = await buildMarked();
    const first = await list({ q: marker, sort: '-username', limit: 2 });
    expect(first.body.items.map((u: { id: number }) => u.id)).toEqual([users.c.id, users.b.id]);
    expect(first.body).toMatchObject({ total: 3, limit: 2, has_more: true });
    const second = await list({ q: marker, sort: '-username', limit: 2, skip: 2 });
    expect(second.body.items.map((u: { id: number }) => u.id)).toEqual([users.a.id]);
    expect(second.body).toMatchObject({ total: 3, skip: 2, has_more: false });
  });

  test('when sorted by email then created_at, then both keys apply', async () => {
    const { marker, users } = await buildMarked();
    const res = await list({ q: marker, sort: 'email,-created_at' });
    expect(res.body.items.map((u: { id: number }) => u.id)).toEqual([users.a.id, users.b.id, users.c.id]);
  });

  test('when filtered by is_active and is_superuser, then only matching users are listed', async () => {
    const { marker, users } = await buildMarked();
    const inactive = await list({ q: marker, is_active: false });
    expect(inactive.body.items.map((u: { id: number }) => u.id)).toEqual([users.a.id]);
    const supers = await list({ q: marker, is_superuser: true });
    expect(supers.body.items.map((u: { id: number }) => u.id)).toEqual([users.c.id]);
    const regularActive = await list({ q: marker, is_active: true, is_superuser: false });
    expect(regularActive.body.items.map((u: { id: number }) => u.id)).toEqual([users.b.id]);
  });

  test('when q matches the full name only, then the user is found', async () => {
    const marker = unique('fn');
    const user = await buildUser(t, { fullName: `Zed ${marker} Zulu` });
    const res = await list({ q: `${marker} zul` });
    expect(res.body.items.map((u: { id: number }) => u.id)).toEqual([user.id]);
  });

  test('when q contains % or _, then they match literally, not as wildcards', async () => {
    const marker = unique('wc');
    const percent = await buildUser(t, { fullName: `${marker} 50% off` });
    await buildUser(t, { fullName: `${marker} 50X off` });
    const underscore = await buildUser(t, { fullName: `${marker} a_b` });
    await buildUser(t, { fullName: `${marker} aXb` });
    expect((await list({ q: `${marker} 50%` })).body.items.map((u: { id: number }) => u.id)).toEqual([percent.id]);
    expect((await list({ q: `${marker} a_b` })).body.items.map((u: { id: number }) => u.id)).toEqual([underscore.id]);
  });

  test.each([
    ['an unknown sort field', { sort: 'hashed_password' }],
    ['a limit of 0', { limit: 0 }],
    ['a limit over 1000', { limit: 1001 }],
    ['a negative skip', { skip: -1 }],
    ['a non-boolean is_active', { is_active: 'maybe' }],
  ])('when the query has %s, then it is 422', async (_name, query) => {
    const res = await list(query);
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'query' }));
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.get('/api/v1/users')).status).toBe(401);
  });
});

describe('getUser', () => {
  test('when a superuser reads any user, then it is 200', async () => {
    const user = await buildUser(t);
    const res = await t.request.get(`/api/v1/users/${user.id}`).set(admin.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email });
  });

  test('when a user reads their own id, then it is 200', async () => {
    const user = await buildUser(t);
    const res = await t.request.get(`/api/v1/users/${user.id}`).set(user.auth);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
  });

  test("when a user reads another user's id, then it is 404 USER_NOT_FOUND like a missing one", async () => {
    const [user, other] = [await buildUser(t), await buildUser(t)];
    const res = await t.request.get(`/api/v1/users/${other.id}`).set(user.auth);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('USER_NOT_FOUND');
  });

  test('when the id does not exist, then it is 404 USER_NOT_FOUND', async () => {
    const res = await t.request.get('/api/v1/users/2147483647').set(admin.auth);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('USER_NOT_FOUND');
  });

  test('when the id is not a positive integer, then it is 422 on the path', async () => {
    const res = await t.request.get('/api/v1/users/abc').set(admin.auth);
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'path' }));
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.get(`/api/v1/users/${admin.id}`)).status).toBe(401);
  });

  test('when the caller is deactivated, then it is 403', async () => {
    const user = await buildUser(t, { isActive: false });
    expect((await t.request.get(`/api/v1/users/${user.id}`).set(user.auth)).status).toBe(403);
  });
});

describe('updateUser', () => {
  const update = (id: number, body: object) => t.request.patch(`/api/v1/users/${id}`).set(admin.auth).send(body);

  test('when a superuser changes profile fields and flags, then it is 200 and they are stored', async () => {
    const user = await buildUser(t);
    const name = unique('adm');
    const res = await update(user.id, {
      email: `${name}@EXAMPLE.com`,
      username: name,
      full_name: 'Changed',
      is_superuser: true,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      email: `${name}@example.com`,
      username: name,
      full_name: 'Changed',
      is_superuser: true,
    });
    expect(await findUserById(t.db, user.id)).toMatchObject({ email: `${name}@example.com`, isSuperuser: true });
  });

  test('when a superuser deactivates a user, then their token is 403 and their refresh tokens are revoked', async () => {
    const user = await buildUser(t);
    const session = await login(t, user.username, VALID_PASSWORD);
    const res = await update(user.id, { is_active: false });
    expect(res.status).toBe(200);
    expect(res.body.is_active).toBe(false);
    expect((await t.request.get('/api/v1/users/me').set(user.auth)).status).toBe(403);
    const tokens = await t.db('refresh_tokens').where({ user_id: user.id });
    expect(tokens.every((row) => row.revoked_at !== null)).toBe(true);
    expect((await update(user.id, { is_active: true })).status).toBe(200);
    const refreshed = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(401);
  });

  test('when a superuser sets a password, then it logs in, the lockout is cleared and old sessions are revoked', async () => {
    const user = await buildUser(t);
    const session = await login(t, user.username, VALID_PASSWORD);
    for (let i = 0; i < 5; i++)
      await t.request.post('/api/v1/auth/login').send({ username: user.username, password: 'Wrong-Horse-9' });
    const res = await update(user.id, { password: NEW_PASSWORD });
    expect(res.status).toBe(200);
    expect(await findUserById(t.db, user.id)).toMatchObject({ failedLoginCount: 0, lockedUntil: null });
    await login(t, user.username, NEW_PASSWORD);
    const refreshed = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(401);
  });

  test('when the password breaks the policy, then it is 422 and nothing changes', async () => {
    const user = await buildUser(t);
    const res = await update(user.id, { password: 'weakweakweak', full_name: 'Not applied' });
    expect(res.status).toBe(422);
    expect(await findUserById(t.db, user.id)).toMatchObject({
      hashedPassword: user.hashedPassword,
      fullName: user.fullName,
    });
  });

  test('when the email is taken, then it is 409 EMAIL_TAKEN', async () => {
    const [user, other] = [await buildUser(t), await buildUser(t)];
    const res = await update(user.id, { email: other.email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('EMAIL_TAKEN');
  });

  test('when the user does not exist, then it is 404 USER_NOT_FOUND', async () => {
    const res = await update(2147483647, { full_name: 'Nobody' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('USER_NOT_FOUND');
  });

  test('when the body has an unknown field, then it is 422', async () => {
    const user = await buildUser(t);
    const res = await update(user.id, { hashed_password: 'x' });
    expect(res.status).toBe(422);
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.patch(`/api/v1/users/${admin.id}`).send({ full_name: 'x' })).status).toBe(401);
  });
});

describe('deleteUser', () => {
  test('when a superuser deletes a user, then it is 204 and the user is gone', async () => {
    const user = await buildUser(t);
    const res = await t.request.delete(`/api/v1/users/${user.id}`).set(admin.auth);
    expect(res.status).toBe(204);
    expect(await findUserById(t.db, user.id)).toBeUndefined();
    expect((await t.request.get('/api/v1/users/me').set(user.auth)).status).toBe(401);
  });

  test('when the user does not exist, then it is 404 USER_NOT_FOUND', async () => {
    const res = await t.request.delete('/api/v1/users/2147483647').set(admin.auth);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('USER_NOT_FOUND');
  });

  test('when the id is not an integer, then it is 422', async () => {
    expect((await t.request.delete('/api/v1/users/x1').set(admin.auth)).status).toBe(422);
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.delete(`/api/v1/users/${admin.id}`)).status).toBe(401);
  });
});

describe('closed registration', () => {
  let closed: TestApp;
  beforeAll(async () => {
    closed = await startTestApp({ env: { OPEN_REGISTRATION: 'false' } });
  });
  afterAll(async () => {
    await closed.close();
  });
  const registration = () => {
    const name = unique('closed');
    return { email: `${name}@example.com`, username: name, password: VALID_PASSWORD };
  };

  test('when registration is closed and an anonymous client registers, then it is 403 and nothing is stored', async () => {
    const body = registration();
    const res = await closed.request.post('/api/v1/users').send(body);
    expect(res.status).toBe(403);
    expect(await closed.db('users').where({ email: body.email })).toHaveLength(0);
  });

  test('when registration is closed and a superuser creates a user, then it is 201', async () => {
    const superuser = await buildUser(closed, { isSuperuser: true });
    const res = await closed.request.post('/api/v1/users').set(superuser.auth).send(registration());
    expect(res.status).toBe(201);
  });

  test('when a regular user creates a user while registration is closed, then it is 403', async () => {
    const user = await buildUser(closed);
    expect((await closed.request.post('/api/v1/users').set(user.auth).send(registration())).status).toBe(403);
  });

  test('when the optional token on registration is invalid, then it is 401', async () => {
    const res = await closed.request.post('/api/v1/users').set('Authorization', 'Bearer nope').send(registration());
    expect(res.status).toBe(401);
  });
});
