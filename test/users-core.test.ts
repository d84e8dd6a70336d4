import { findUserById } from '../src/data-access/users-repository';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('createUser', () => {
  test('when a valid registration is posted, then it is 201 with Location and the user is stored lower-cased without a password', async () => {
    const name = unique('reg');
    const res = await t.request.post('/api/v1/users').send({
      email: `${name.toUpperCase()}@Example.com`,
      username: name,
      full_name: 'Reg User',
      password: VALID_PASSWORD,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: `${name}@example.com`,
      username: name,
      is_active: true,
      is_superuser: false,
    });
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('hashed_password');
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/users/${res.body.id}$`));
    const stored = await findUserById(t.db, res.body.id);
    expect(stored?.email).toBe(`${name}@example.com`);
    expect(stored?.hashedPassword).toMatch(/^\$2[aby]\$04\$/);
  });

  test('when the email is taken in another case, then it is 409 EMAIL_TAKEN', async () => {
    const user = await buildUser(t);
    const res = await t.request
      .post('/api/v1/users')
      .send({ email: user.email.toUpperCase(), username: unique('other'), password: VALID_PASSWORD });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('EMAIL_TAKEN');
  });

  test('when the username is taken in another case, then it is 409 USERNAME_TAKEN', async () => {
    const user = await buildUser(t);
    const res = await t.request
      .post('/api/v1/users')
      .send({ email: `${unique('u')}@example.com`, username: user.username.toUpperCase(), password: VALID_PASSWORD });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('USERNAME_TAKEN');
  });

  test('when the password breaks several rules, then it is 422 naming each rule and nothing is stored', async () => {
    const email = `${unique('weak')}@example.com`;
    const res = await t.request
      .post('/api/v1/users')
      .send({ email, username: unique('weak'), password: 'alllowercase' });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
    const messages = res.body.details.map((d: { message: string }) => d.message);
    expect(messages).toEqual(
      expect.arrayContaining(['must contain an upper-case letter', 'must contain a digit', 'must contain a symbol']),
    );
    expect(await t.db('users').where({ email }).first()).toBeUndefined();
  });

  test('when the password is 72 characters but over 72 bytes, then it is 422, never truncated', async () => {
    const password = `Aa1!${'é'.repeat(36)}`;
    const res = await t.request
      .post('/api/v1/users')
      .send({ email: `${unique('long')}@example.com`, username: unique('long'), password });
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual({
      location: 'body',
      path: '/password',
      message: 'must be at most 72 bytes of UTF-8',
    });
  });

  test('when two registrations with one email race, then exactly one is created and the other is 409', async () => {
    const name = unique('race');
    const send = (username: string) =>
      t.request.post('/api/v1/users').send({ email: `${name}@example.com`, username, password: VALID_PASSWORD });
    const results = await Promise.all([send(`${name}a`), send(`${name}b`)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(
      await t
        .db('users')
        .where({ email: `${name}@example.com` })
        .count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
  });
});

describe('getCurrentUser', () => {
  test('when called with a valid token, then it returns the caller', async () => {
    const user = await buildUser(t);
    const res = await t.request.get('/api/v1/users/me').set(user.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, username: user.username });
  });

  test('when called without a token, then it is 401 NOT_AUTHENTICATED with WWW-Authenticate: Bearer', async () => {
    const res = await t.request.get('/api/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('NOT_AUTHENTICATED');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});
