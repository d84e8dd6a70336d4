import { buildUser, VALID_PASSWORD, type TestUser } from './support/factories';
import { eventually } from './support/eventually';
import {
  dependencyErrorTests,
  expectBodyErrors,
  startAppWithDatabaseDown,
  type OperationCall,
} from './support/http-contract';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildUser(t, { isSuperuser: true });
});
afterAll(async () => {
  await t.close();
});

const BODY_OPERATIONS = [
  ['login', 'post', '/api/v1/auth/login'],
  ['refreshToken', 'post', '/api/v1/auth/refresh'],
  ['logout', 'post', '/api/v1/auth/logout'],
  ['requestPasswordReset', 'post', '/api/v1/auth/password-reset/request'],
  ['confirmPasswordReset', 'post', '/api/v1/auth/password-reset/confirm'],
  ['createUser', 'post', '/api/v1/users'],
  ['updateCurrentUser', 'patch', '/api/v1/users/me'],
  ['changePassword', 'put', '/api/v1/users/me/password'],
  ['updateUser', 'patch', '/api/v1/users/1'],
] as const;

describe('identity operations with a broken body', () => {
  test.each(BODY_OPERATIONS)(
    'when %s gets malformed JSON, a wrong content type or an oversized body, then it is 400, 415 or 413',
    async (_id, method, path) => {
      await expectBodyErrors(t, method, path, admin.auth);
    },
  );
});

describe('identity operations with the database down', () => {
  const password = { current_password: VALID_PASSWORD, new_password: 'Brand-New-Horse-11' };
  const calls: OperationCall[] = [
    {
      operationId: 'login',
      send: (app) => app.request.post('/api/v1/auth/login').send({ username: 'a', password: 'b' }),
    },
    {
      operationId: 'refreshToken',
      send: (app) => app.request.post('/api/v1/auth/refresh').send({ refresh_token: 'r' }),
    },
    { operationId: 'logout', send: (app) => app.request.post('/api/v1/auth/logout').send({ refresh_token: 'r' }) },
    {
      operationId: 'confirmPasswordReset',
      send: (app) =>
        app.request.post('/api/v1/auth/password-reset/confirm').send({ token: 't', new_password: VALID_PASSWORD }),
    },
    {
      operationId: 'createUser',
      send: (app) =>
        app.request
          .post('/api/v1/users')
          .send({ email: 'down@example.com', username: 'down', password: VALID_PASSWORD }),
    },
    { operationId: 'listUsers', send: (app, auth) => app.request.get('/api/v1/users').set(auth) },
    { operationId: 'getCurrentUser', send: (app, auth) => app.request.get('/api/v1/users/me').set(auth) },
    {
      operationId: 'updateCurrentUser',
      send: (app, auth) => app.request.patch('/api/v1/users/me').set(auth).send({ full_name: 'x' }),
    },
    {
      operationId: 'changePassword',
      send: (app, auth) => app.request.put('/api/v1/users/me/password').set(auth).send(password),
    },
    { operationId: 'deleteCurrentUser', send: (app, auth) => app.request.delete('/api/v1/users/me').set(auth) },
    { operationId: 'getUser', send: (app, auth) => app.request.get('/api/v1/users/1').set(auth) },
    {
      operationId: 'updateUser',
      send: (app, auth) => app.request.patch('/api/v1/users/1').set(auth).send({ full_name: 'x' }),
    },
    { operationId: 'deleteUser', send: (app, auth) => app.request.delete('/api/v1/users/1').set(auth) },
  ];

  dependencyErrorTests('identity operation that needs the database', calls);

  test('when the database is unreachable, then a password reset request is still 202 and the failure is logged', async () => {
    const { t: down } = await startAppWithDatabaseDown();
    try {
      const res = await down.request.post('/api/v1/auth/password-reset/request').send({ email: 'a@example.com' });
      expect(res.status).toBe(202);
      const logged = await eventually(() =>
        down.logs.entries.find((entry) => entry.message === 'password reset request failed'),
      );
      expect(logged).toMatchObject({ level: 'error', request_id: res.headers['x-request-id'] });
    } finally {
      await down.close();
    }
  });
});
