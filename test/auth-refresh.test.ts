import { createHash } from 'node:crypto';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { login } from './support/identity';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const refresh = (refreshToken: string) => t.request.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken });
const logout = (refreshToken: string) => t.request.post('/api/v1/auth/logout').send({ refresh_token: refreshToken });
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
const storedToken = (token: string) =>
  t
    .db('refresh_tokens')
    .where({ token_hash: sha256(token) })
    .first();

describe('refreshToken', () => {
  test('when a fresh refresh token is presented, then it is spent and a working pair of the same family is issued', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    const [spent, issued] = [await storedToken(first.refresh_token), await storedToken(res.body.refresh_token)];
    expect(spent.spent_at).not.toBeNull();
    expect(issued).toMatchObject({ family_id: spent.family_id, spent_at: null, revoked_at: null });
    const me = await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.status).toBe(200);
  });

  test('when a spent refresh token is presented again, then it is 401 and the whole family is revoked', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    const second = (await refresh(first.refresh_token)).body;
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(401);
    expect(reuse.body.error_code).toBe('INVALID_REFRESH_TOKEN');
    const latest = await refresh(second.refresh_token);
    expect(latest.status).toBe(401);
    const family = await t
      .db('refresh_tokens')
      .where({ family_id: (await storedToken(first.refresh_token)).family_id });
    expect(family).toHaveLength(2);
    expect(family.every((row) => row.revoked_at !== null)).toBe(true);
  });

  test("when reuse revokes one family, then the user's other sessions keep working", async () => {
    const user = await buildUser(t);
    const stolen = await login(t, user.username, VALID_PASSWORD);
    const other = await login(t, user.username, VALID_PASSWORD);
    await refresh(stolen.refresh_token);
    await refresh(stolen.refresh_token);
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  test('when requests race with one refresh token, then exactly one wins and the reuse revokes the family', async () => {
    for (let round = 0; round < 6; round += 1) {
      const user = await buildUser(t);
      const first = await login(t, user.username, VALID_PASSWORD);
      const results = await Promise.all([1, 2, 3].map(() => refresh(first.refresh_token)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
      for (const res of results.filter((r) => r.status === 401)) {
        expect(res.body.error_code).toBe('INVALID_REFRESH_TOKEN');
      }
      const winner = results.find((r) => r.status === 200)?.body;
      expect((await refresh(winner.refresh_token)).status).toBe(401);
      const family = await t.db('refresh_tokens').where({ user_id: user.id });
      expect(family).toHaveLength(2);
      expect(family.every((row) => row.revoked_at !== null)).toBe(true);
    }
  });

  test('when logout races a refresh of the same token, then after the 204 no token of the family refreshes', async () => {
    // Rounds, because only some interleavings expose it; each round is its own user and family.
    for (let round = 0; round < 12; round += 1) {
      const user = await buildUser(t);
      const first = await login(t, user.username, VALID_PASSWORD);
      const [rotated, loggedOut] = await Promise.all([refresh(first.refresh_token), logout(first.refresh_token)]);
      expect(loggedOut.status).toBe(204);
      expect([200, 401]).toContain(rotated.status);
      if (rotated.status === 200) expect((await refresh(rotated.body.refresh_token)).status).toBe(401);
      const live = await t.db('refresh_tokens').where({ user_id: user.id }).whereNull('revoked_at');
      expect(live).toEqual([]);
    }
  });

  test('when the refresh token has expired by the clock, then it is 401', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    t.clock.advance(7 * 24 * 3600 * 1000);
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('INVALID_REFRESH_TOKEN');
  });

  test('when the refresh token is unknown, then it is 401 INVALID_REFRESH_TOKEN', async () => {
    const res = await refresh('2Hh1Xv1bR9pZz4m3cH2y0oWq8T5kLrQe7uJ6nYdA0sE');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('INVALID_REFRESH_TOKEN');
  });

  test('when the user was deactivated, then refreshing is 403 INACTIVE_USER and the token is not spent', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    await t.db('users').where({ id: user.id }).update({ is_active: false });
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INACTIVE_USER');
    expect((await storedToken(first.refresh_token)).spent_at).toBeNull();
  });

  test('when the user was deleted, then refreshing is 401', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    await t.db('users').where({ id: user.id }).delete();
    expect((await refresh(first.refresh_token)).status).toBe(401);
  });

  test('when the body has an unknown field, then it is 422', async () => {
    const res = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: 'x', user_id: 1 });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
  });
});

describe('logout', () => {
  test('when a session logs out, then it is 204 and its refresh tokens no longer refresh', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    const second = (await refresh(first.refresh_token)).body;
    const res = await logout(second.refresh_token);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await refresh(second.refresh_token)).status).toBe(401);
    const family = await t.db('refresh_tokens').where({ user_id: user.id });
    expect(family.every((row) => row.revoked_at !== null)).toBe(true);
  });

  test('when one session logs out, then the other sessions of the user still refresh', async () => {
    const user = await buildUser(t);
    const leaving = await login(t, user.username, VALID_PASSWORD);
    const staying = await login(t, user.username, VALID_PASSWORD);
    await logout(leaving.refresh_token);
    expect((await refresh(staying.refresh_token)).status).toBe(200);
  });

  test('when the token is unknown or already logged out, then it is still 204', async () => {
    const user = await buildUser(t);
    const first = await login(t, user.username, VALID_PASSWORD);
    expect((await logout(first.refresh_token)).status).toBe(204);
    expect((await logout(first.refresh_token)).status).toBe(204);
    expect((await logout('never-issued-token')).status).toBe(204);
  });

  test('when the refresh token is missing, then it is 422', async () => {
    const res = await t.request.post('/api/v1/auth/logout').send({});
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'body' }));
  });
});
