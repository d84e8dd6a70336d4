import { findUserById } from '../src/data-access/users-repository';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { login } from './support/identity';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'Brand-New-Horse-11';

describe('updateCurrentUser', () => {
  test('when the profile fields are changed, then it is 200 and they are stored, the email lower-cased', async () => {
    const user = await buildUser(t);
    const name = unique('renamed');
    const res = await t.request
      .patch('/api/v1/users/me')
      .set(user.auth)
      .send({ email: `${name.toUpperCase()}@Example.com`, username: name, full_name: 'Renamed User' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: user.id,
      email: `${name}@example.com`,
      username: name,
      full_name: 'Renamed User',
    });
    const stored = await findUserById(t.db, user.id);
    expect(stored).toMatchObject({ email: `${name}@example.com`, username: name, fullName: 'Renamed User' });
    expect(stored?.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());
  });

  test('when full_name is null, then it is cleared and the other fields stay', async () => {
    const user = await buildUser(t);
    const res = await t.request.patch('/api/v1/users/me').set(user.auth).send({ full_name: null });
    expect(res.status).toBe(200);
    expect(await findUserById(t.db, user.id)).toMatchObject({
      fullName: null,
      email: user.email,
      username: user.username,
    });
  });

  test.each([
    ['is_superuser', { is_superuser: true }],
    ['is_active', { is_active: false }],
    ['is_superuser next to an allowed field', { full_name: 'Sneaky', is_superuser: true }],
    ['password', { password: 'Another-Horse-10' }],
    ['id', { id: 1 }],
  ])('when the body carries %s, then it is 422 and nothing changes in the database', async (_name, body) => {
    const user = await buildUser(t);
    const res = await t.request.patch('/api/v1/users/me').set(user.auth).send(body);
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
    const stored = await findUserById(t.db, user.id);
    expect(stored).toMatchObject({
      isSuperuser: false,
      isActive: true,
      fullName: user.fullName,
      hashedPassword: user.hashedPassword,
      updatedAt: user.updatedAt,
    });
  });

  test('when the body is empty, then it is 422', async () => {
    const user = await buildUser(t);
    expect((await t.request.patch('/api/v1/users/me').set(user.auth).send({})).status).toBe(422);
  });

  test('when the email belongs to another user in another case, then it is 409 EMAIL_TAKEN and nothing changes', async () => {
    const [user, other] = [await buildUser(t), await buildUser(t)];
    const res = await t.request.patch('/api/v1/users/me').set(user.auth).send({ email: other.email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('EMAIL_TAKEN');
    expect((await findUserById(t.db, user.id))?.email).toBe(user.email);
  });

  test('when the username belongs to another user in another case, then it is 409 USERNAME_TAKEN', async () => {
    const [user, other] = [await buildUser(t), await buildUser(t)];
    const res = await t.request
      .patch('/api/v1/users/me')
      .set(user.auth)
      .send({ username: other.username.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe('USERNAME_TAKEN');
  });

  test('when the caller is deactivated, then it is 403 INACTIVE_USER', async () => {
    const user = await buildUser(t, { isActive: false });
    const res = await t.request.patch('/api/v1/users/me').set(user.auth).send({ full_name: 'x' });
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INACTIVE_USER');
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.patch('/api/v1/users/me').send({ full_name: 'x' })).status).toBe(401);
  });

  test('when two users claim the same new email or username at once, then one is 200 and the other 409, never 500', async () => {
    // Rounds, because only some interleavings make both updates pass before either commits.
    for (let round = 0; round < 5; round += 1) {
      const [alice, bob] = [await buildUser(t), await buildUser(t)];
      const name = unique('claimed');
      const field = round % 2 === 0 ? 'email' : 'username';
      const [forAlice, forBob] =
        field === 'email'
          ? [{ email: `${name}@example.com` }, { email: `${name.toUpperCase()}@EXAMPLE.com` }]
          : [{ username: name }, { username: name.toUpperCase() }];
      const results = await Promise.all([
        t.request.patch('/api/v1/users/me').set(alice.auth).send(forAlice),
        t.request.patch('/api/v1/users/me').set(bob.auth).send(forBob),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const loser = results.find((r) => r.status === 409);
      expect(loser?.body.error_code).toBe(field === 'email' ? 'EMAIL_TAKEN' : 'USERNAME_TAKEN');
      const claimed = field === 'email' ? `${name}@example.com` : name;
      const holders = await t.db('users').whereRaw(`lower(${field}) = ?`, [claimed.toLowerCase()]);
      expect(holders.map((row) => Number(row.id))).toEqual([results[0]?.status === 200 ? alice.id : bob.id]);
    }
  });

  test('when a registration races a rename to the same email, then one wins and the other is 409 EMAIL_TAKEN', async () => {
    for (let round = 0; round < 5; round += 1) {
      const renaming = await buildUser(t);
      const name = unique('contested');
      const [registered, renamed] = await Promise.all([
        t.request
          .post('/api/v1/users')
          .send({ email: `${name}@example.com`, username: name, password: VALID_PASSWORD }),
        t.request
          .patch('/api/v1/users/me')
          .set(renaming.auth)
          .send({ email: `${name}@example.com` }),
      ]);
      expect([registered.status, renamed.status].sort()).toEqual(registered.status === 201 ? [201, 409] : [200, 409]);
      const loser = registered.status === 409 ? registered : renamed;
      expect(loser.body.error_code).toBe('EMAIL_TAKEN');
      const holders = await t.db('users').where({ email: `${name}@example.com` });
      expect(holders).toHaveLength(1);
      expect(holders[0].username).toBe(registered.status === 201 ? name : renaming.username);
    }
  });
});

describe('changePassword', () => {
  const change = (auth: Record<string, string>, body: object) =>
    t.request.put('/api/v1/users/me/password').set(auth).send(body);

  test('when the current password is right, then it is 204, the new one logs in, the old one not, and sessions are revoked', async () => {
    const user = await buildUser(t);
    const session = await login(t, user.username, VALID_PASSWORD);
    const res = await change(user.auth, { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(204);
    const stored = await findUserById(t.db, user.id);
    expect(stored?.hashedPassword).not.toBe(user.hashedPassword);
    expect(stored?.passwordChangedAt).toEqual(t.clock.now());
    expect(
      (await t.request.post('/api/v1/auth/login').send({ username: user.username, password: VALID_PASSWORD })).status,
    ).toBe(401);
    await login(t, user.username, NEW_PASSWORD);
    const refreshed = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(401);
  });

  test('when three changes with the right current password race, then exactly one applies and only its new password logs in', async () => {
    const user = await buildUser(t);
    const candidates = ['Racing-Horse-One-1', 'Racing-Horse-Two-2', 'Racing-Horse-Three-3'];
    const results = await Promise.all(
      candidates.map((candidate) => change(user.auth, { current_password: VALID_PASSWORD, new_password: candidate })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    // The losers either find the password changed (422) or their token outdated by the winner's change (401).
    for (const status of statuses.filter((s) => s !== 204)) expect([401, 422]).toContain(status);
    const logins = await Promise.all(
      [VALID_PASSWORD, ...candidates].map(
        async (password) =>
          (await t.request.post('/api/v1/auth/login').send({ username: user.username, password })).status,
      ),
    );
    const winner = candidates[statuses.indexOf(204)];
    expect(logins).toEqual([VALID_PASSWORD, ...candidates].map((p) => (p === winner ? 200 : 401)));
  });

  test('when the current password is wrong, then it is 422 on /current_password and counts as a failed login', async () => {
    const user = await buildUser(t);
    const res = await change(user.auth, { current_password: 'Wrong-Horse-9', new_password: NEW_PASSWORD });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([{ location: 'body', path: '/current_password', message: 'is incorrect' }]);
    const stored = await findUserById(t.db, user.id);
    expect(stored).toMatchObject({ hashedPassword: user.hashedPassword, failedLoginCount: 1 });
  });

  test('when the current password is guessed too often, then the account is locked: 423 with Retry-After', async () => {
    const user = await buildUser(t);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await change(user.auth, { current_password: `Wrong-Horse-${i}`, new_password: NEW_PASSWORD })).status,
      );
    }
    expect(statuses).toEqual([422, 422, 422, 422, 423]);
    const locked = await change(user.auth, { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD });
    expect(locked.status).toBe(423);
    expect(locked.headers['retry-after']).toBe(String(15 * 60));
    expect((await findUserById(t.db, user.id))?.hashedPassword).toBe(user.hashedPassword);
  });

  test('when the new password breaks the policy, then it is 422 naming the rules on /new_password', async () => {
    const user = await buildUser(t);
    const res = await change(user.auth, { current_password: VALID_PASSWORD, new_password: 'NoDigitsHere!' });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([{ location: 'body', path: '/new_password', message: 'must contain a digit' }]);
  });

  test('when a field is missing or unknown, then it is 422', async () => {
    const user = await buildUser(t);
    expect((await change(user.auth, { new_password: NEW_PASSWORD })).status).toBe(422);
    const extra = { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD, user_id: 1 };
    expect((await change(user.auth, extra)).status).toBe(422);
  });

  test('when the caller is deactivated, then it is 403 INACTIVE_USER and the password stays', async () => {
    const user = await buildUser(t, { isActive: false });
    const res = await change(user.auth, { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INACTIVE_USER');
    expect((await findUserById(t.db, user.id))?.hashedPassword).toBe(user.hashedPassword);
  });

  test('when there is no token, then it is 401', async () => {
    const res = await t.request
      .put('/api/v1/users/me/password')
      .send({ current_password: VALID_PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(401);
  });

  test('when a change with the right current password races wrong logins that reach the limit, then their lock stands', async () => {
    for (let round = 0; round < 6; round += 1) {
      const user = await buildUser(t);
      const wrongLogin = () =>
        t.request.post('/api/v1/auth/login').send({ username: user.username, password: 'Wrong-Horse-9' });
      expect((await wrongLogin()).status).toBe(401);
      const [changed, ...wrong] = await Promise.all([
        change(user.auth, { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD }),
        ...Array.from({ length: 9 }, wrongLogin),
      ]);
      expect([204, 423]).toContain(changed.status);
      if (changed.status === 423) expect(changed.body.error_code).toBe('ACCOUNT_LOCKED');
      for (const res of wrong) expect([401, 423]).toContain(res.status);
      // The change resets the count at most once, and at least five failures come after that.
      expect(await findUserById(t.db, user.id)).toMatchObject({
        failedLoginCount: 5,
        lockedUntil: new Date(t.clock.now().getTime() + 15 * 60 * 1000),
      });
    }
  });

  test('when a change races logins and refreshes with the old credentials, then after its 204 no refresh token is live', async () => {
    for (let round = 0; round < 6; round += 1) {
      const user = await buildUser(t);
      const sessions = await Promise.all([1, 2, 3].map(() => login(t, user.username, VALID_PASSWORD)));
      const results = await Promise.all([
        change(user.auth, { current_password: VALID_PASSWORD, new_password: NEW_PASSWORD }),
        ...sessions.map((s) => t.request.post('/api/v1/auth/refresh').send({ refresh_token: s.refresh_token })),
        ...[1, 2, 3].map(() =>
          t.request.post('/api/v1/auth/login').send({ username: user.username, password: VALID_PASSWORD }),
        ),
      ]);
      expect(results[0]?.status).toBe(204);
      for (const res of results.slice(1)) expect([200, 401]).toContain(res.status);
      expect(await t.db('refresh_tokens').where({ user_id: user.id }).whereNull('revoked_at')).toEqual([]);
    }
  });
});

describe('deleteCurrentUser', () => {
  test('when a user deletes their account, then it is 204, the row and sessions are gone and the token stops working', async () => {
    const user = await buildUser(t);
    const session = await login(t, user.username, VALID_PASSWORD);
    const res = await t.request.delete('/api/v1/users/me').set(user.auth);
    expect(res.status).toBe(204);
    expect(await findUserById(t.db, user.id)).toBeUndefined();
    expect(await t.db('refresh_tokens').where({ user_id: user.id })).toHaveLength(0);
    expect((await t.request.get('/api/v1/users/me').set(user.auth)).status).toBe(401);
    const refreshed = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(401);
  });

  test('when there is no token, then it is 401', async () => {
    expect((await t.request.delete('/api/v1/users/me')).status).toBe(401);
  });

  test('when the caller is deactivated, then it is 403 and the account stays', async () => {
    const user = await buildUser(t, { isActive: false });
    expect((await t.request.delete('/api/v1/users/me').set(user.auth)).status).toBe(403);
    expect(await findUserById(t.db, user.id)).toBeDefined();
  });
});
