import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import { findUserById } from '../src/data-access/users-repository';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { untilWaitingOnLock } from './support/locks';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const loginJson = (username: string, password: string) =>
  t.request.post('/api/v1/auth/login').send({ username, password });

describe('login', () => {
  test('when the username and password are right, then it is 200 with a token pair that is not cached and works', async () => {
    const user = await buildUser(t);
    const res = await loginJson(user.username, VALID_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 1800, refresh_expires_in: 7 * 24 * 3600 });
    const me = await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.body.id).toBe(user.id);
    const stored = await t.db('refresh_tokens').where({ user_id: user.id });
    expect(stored).toHaveLength(1);
    expect(stored[0].token_hash).toBe(createHash('sha256').update(res.body.refresh_token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(res.body.refresh_token);
  });

  test('when the OAuth2 form is posted with the email in another case, then it is 200', async () => {
    const user = await buildUser(t);
    const res = await t.request
      .post('/api/v1/auth/login')
      .type('form')
      .send({ grant_type: 'password', username: user.email.toUpperCase(), password: VALID_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });

  test('when the password is wrong, then it is 401 INVALID_CREDENTIALS and the failure is counted', async () => {
    const user = await buildUser(t);
    const res = await loginJson(user.username, 'Wrong-Horse-9');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('INVALID_CREDENTIALS');
    expect((await findUserById(t.db, user.id))?.failedLoginCount).toBe(1);
  });

  test('when the user is unknown, then it is the same 401 after the same bcrypt work at the configured cost', async () => {
    const compare = jest.spyOn(bcrypt, 'compare');
    const res = await loginJson(unique('ghost'), VALID_PASSWORD);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error_code: 'INVALID_CREDENTIALS', message: 'Incorrect username or password.' });
    expect(compare).toHaveBeenCalledTimes(1);
    expect(String(compare.mock.calls[0]?.[1])).toMatch(/^\$2[aby]\$04\$/);
  });

  test('when a deactivated user logs in with the right password, then it is 403 INACTIVE_USER', async () => {
    const user = await buildUser(t, { isActive: false });
    const res = await loginJson(user.username, VALID_PASSWORD);
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INACTIVE_USER');
    expect(await t.db('refresh_tokens').where({ user_id: user.id })).toHaveLength(0);
  });

  test('when a required field is missing, then it is 422 naming it', async () => {
    const res = await t.request.post('/api/v1/auth/login').send({ username: 'alice' });
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'body', path: '/password' }));
  });
});

describe('lockout', () => {
  test('when the failures reach MAX_FAILED_LOGINS, then the account is locked with 423 and Retry-After, even with the right password', async () => {
    const user = await buildUser(t);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await loginJson(user.username, 'Wrong-Horse-9')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 423]);
    const locked = await loginJson(user.username, VALID_PASSWORD);
    expect(locked.status).toBe(423);
    expect(locked.body.error_code).toBe('ACCOUNT_LOCKED');
    expect(locked.headers['retry-after']).toBe(String(15 * 60));
    const stored = await findUserById(t.db, user.id);
    expect(stored?.lockedUntil?.getTime()).toBe(t.clock.now().getTime() + 15 * 60 * 1000);
  });

  test('when the lock has run out by the clock, then the right password logs in and the count is reset', async () => {
    const user = await buildUser(t);
    for (let i = 0; i < 5; i++) await loginJson(user.username, 'Wrong-Horse-9');
    t.clock.advance(15 * 60 * 1000 - 1_000);
    expect((await loginJson(user.username, VALID_PASSWORD)).status).toBe(423);
    t.clock.advance(1_000);
    const res = await loginJson(user.username, VALID_PASSWORD);
    expect(res.status).toBe(200);
    const stored = await findUserById(t.db, user.id);
    expect(stored).toMatchObject({ failedLoginCount: 0, lockedUntil: null });
  });

  test('when the lock has run out and the password is wrong again, then it is 401 and counting starts over', async () => {
    const user = await buildUser(t);
    for (let i = 0; i < 5; i++) await loginJson(user.username, 'Wrong-Horse-9');
    t.clock.advance(15 * 60 * 1000);
    const res = await loginJson(user.username, 'Wrong-Horse-9');
    expect(res.status).toBe(401);
    expect((await findUserById(t.db, user.id))?.failedLoginCount).toBe(1);
  });

  test('when a login succeeds after some failures, then the failure count is reset', async () => {
    const user = await buildUser(t);
    await loginJson(user.username, 'Wrong-Horse-9');
    await loginJson(user.username, 'Wrong-Horse-9');
    expect((await loginJson(user.username, VALID_PASSWORD)).status).toBe(200);
    expect((await findUserById(t.db, user.id))?.failedLoginCount).toBe(0);
  });

  test('when MAX_FAILED_LOGINS and LOCKOUT_MINUTES are configured, then they apply', async () => {
    const custom = await startTestApp({ env: { MAX_FAILED_LOGINS: '2', LOCKOUT_MINUTES: '1' }, deps: { db: t.db } });
    try {
      const user = await buildUser(custom);
      const attempt = (password: string) =>
        custom.request.post('/api/v1/auth/login').send({ username: user.username, password });
      expect((await attempt('Wrong-Horse-9')).status).toBe(401);
      const locked = await attempt('Wrong-Horse-9');
      expect(locked.status).toBe(423);
      expect(locked.headers['retry-after']).toBe('60');
      custom.clock.advance(60_000);
      expect((await attempt(VALID_PASSWORD)).status).toBe(200);
    } finally {
      await custom.close();
    }
  });
});

describe('lockout under concurrency', () => {
  const WRONG = 'Wrong-Horse-9';
  const lockEnd = () => new Date(t.clock.now().getTime() + 15 * 60 * 1000);
  const liveRefreshTokens = (userId: number) =>
    t.db('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at');

  test('when wrong passwords arrive at once, then each counts until the lock and none after it, and the lock is not moved', async () => {
    const user = await buildUser(t);
    const first = await Promise.all([1, 2, 3, 4].map(() => loginJson(user.username, WRONG)));
    expect(first.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect((await findUserById(t.db, user.id))?.failedLoginCount).toBe(4);
    const user2 = await buildUser(t);
    const burst = await Promise.all(Array.from({ length: 12 }, () => loginJson(user2.username, WRONG)));
    expect(burst.map((r) => r.status).sort()).toEqual([...Array<number>(4).fill(401), ...Array<number>(8).fill(423)]);
    for (const res of burst.filter((r) => r.status === 423)) {
      expect(res.body.error_code).toBe('ACCOUNT_LOCKED');
      expect(res.headers['retry-after']).toBe(String(15 * 60));
    }
    expect(await findUserById(t.db, user2.id)).toMatchObject({ failedLoginCount: 5, lockedUntil: lockEnd() });
  });

  test('when the right password races wrong ones that reach the limit, then the lock they set stands', async () => {
    // Rounds, because only some interleavings put the right login's reset after the lock; each round is its own user.
    for (let round = 0; round < 6; round += 1) {
      const user = await buildUser(t);
      // One failure first, so the right login has a count to reset.
      expect((await loginJson(user.username, WRONG)).status).toBe(401);
      const [right, ...wrong] = await Promise.all([
        loginJson(user.username, VALID_PASSWORD),
        ...Array.from({ length: 9 }, () => loginJson(user.username, WRONG)),
      ]);
      expect([200, 423]).toContain(right.status);
      for (const res of wrong) expect([401, 423]).toContain(res.status);
      // Whichever came first, at least five failures follow the last reset, so the account ends locked at the limit.
      expect(await findUserById(t.db, user.id)).toMatchObject({ failedLoginCount: 5, lockedUntil: lockEnd() });
      expect(await liveRefreshTokens(user.id)).toHaveLength(right.status === 200 ? 1 : 0);
    }
  });

  // PostgreSQL only: a second connection holds the password change open, which PGlite's one connection cannot do.
  const onPostgres = process.env.TEST_DATABASE_URL ? test : test.skip;
  onPostgres(
    "when the password is changed between a login's check and its token, then the login is 401 and issues nothing",
    async () => {
      const user = await buildUser(t);
      const changing = await t.db.transaction();
      try {
        await changing('users')
          .where({ id: user.id })
          .update({ hashed_password: await bcrypt.hash('Other-Horse-77', 4), password_changed_at: t.clock.now() });
        // The login reads the committed (old) hash, so bcrypt accepts it; then it must wait for the change.
        let done = false;
        const loggingIn = loginJson(user.username, VALID_PASSWORD).then((res) => {
          done = true;
          return res;
        });
        await untilWaitingOnLock(t.db, '%for no key update%', 'the login', () => done);
        await changing.commit();
        const res = await loggingIn;
        expect({ status: res.status, error_code: res.body.error_code }).toEqual({
          status: 401,
          error_code: 'INVALID_CREDENTIALS',
        });
        expect(await liveRefreshTokens(user.id)).toEqual([]);
      } finally {
        if (!changing.isCompleted()) await changing.rollback();
      }
    },
  );
});

describe('the 72-byte bcrypt limit', () => {
  const register = (password: string) => {
    const name = unique('b72');
    return t.request.post('/api/v1/users').send({ email: `${name}@example.com`, username: name, password });
  };
  const at72 = `Aa1!${'x'.repeat(68)}`;

  test('when a password has exactly 72 bytes, then it registers and logs in', async () => {
    const res = await register(at72);
    expect(res.status).toBe(201);
    expect((await loginJson(res.body.username, at72)).status).toBe(200);
  });

  test('when a password has 73 bytes, then registration is 422 and nothing is stored', async () => {
    const name = unique('b73');
    const res = await t.request
      .post('/api/v1/users')
      .send({ email: `${name}@example.com`, username: name, password: `${at72}y` });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
    expect(await t.db('users').where({ username: name })).toHaveLength(0);
  });

  test('when a password has 73 bytes through multi-byte characters, then it is 422 naming the byte limit', async () => {
    const res = await register(`Aa1!${'x'.repeat(67)}é`);
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual({
      location: 'body',
      path: '/password',
      message: 'must be at most 72 bytes of UTF-8',
    });
  });

  test('when two passwords differ only after byte 72, then the longer one never logs in as the shorter', async () => {
    const res = await register(at72);
    expect(res.status).toBe(201);
    const longer = await loginJson(res.body.username, `${at72}anything`);
    expect(longer.status).toBe(401);
    expect(longer.body.error_code).toBe('INVALID_CREDENTIALS');
  });
});
