import { createHash } from 'node:crypto';
import { findUserById } from '../src/data-access/users-repository';
import { buildUser, VALID_PASSWORD } from './support/factories';
import { eventually } from './support/eventually';
import { login, mailsTo, resetTokenFor } from './support/identity';
import { startTestApp, testConfig, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://shop.example.com/' } });
});
afterAll(async () => {
  await t.close();
});

const NEW_PASSWORD = 'Brand-New-Horse-11';
const requestReset = (email: string) => t.request.post('/api/v1/auth/password-reset/request').send({ email });
const confirm = (token: string, password = NEW_PASSWORD) =>
  t.request.post('/api/v1/auth/password-reset/confirm').send({ token, new_password: password });
const loginStatus = async (username: string, password: string) =>
  (await t.request.post('/api/v1/auth/login').send({ username, password })).status;

describe('requestPasswordReset', () => {
  test('when the email belongs to an active user, then it is 202 and a link with a stored-hashed token is emailed', async () => {
    const user = await buildUser(t);
    const res = await requestReset(user.email.toUpperCase());
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      message: 'If an active account uses this email, a password reset link has been sent to it.',
    });
    const token = await resetTokenFor(t, user.email);
    expect(mailsTo(t, user.email)[0]?.text).toContain(`https://shop.example.com/reset-password?token=${token}`);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const rows = await t.db('password_reset_tokens').where({ user_id: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(new Date(rows[0].expires_at).getTime()).toBe(t.clock.now().getTime() + 30 * 60 * 1000);
  });

  test('when the email is unknown, then it is the same 202 and nothing is emailed', async () => {
    const known = await buildUser(t);
    const unknownEmail = `${unique('nobody')}@example.com`;
    const [unknownRes, knownRes] = [await requestReset(unknownEmail), await requestReset(known.email)];
    expect(unknownRes.status).toBe(202);
    expect(unknownRes.body).toEqual(knownRes.body);
    await resetTokenFor(t, known.email);
    expect(mailsTo(t, unknownEmail)).toEqual([]);
  });

  test('when the user is deactivated, then it is 202 and no token is issued', async () => {
    const inactive = await buildUser(t, { isActive: false });
    const marker = await buildUser(t);
    expect((await requestReset(inactive.email)).status).toBe(202);
    await requestReset(marker.email);
    await resetTokenFor(t, marker.email);
    expect(await t.db('password_reset_tokens').where({ user_id: inactive.id })).toHaveLength(0);
  });

  test('when a second reset is requested, then only the newest token works', async () => {
    const user = await buildUser(t);
    await requestReset(user.email);
    const older = await resetTokenFor(t, user.email, 1);
    await requestReset(user.email);
    const newer = await resetTokenFor(t, user.email, 2);
    expect((await confirm(older)).status).toBe(400);
    expect((await confirm(newer)).status).toBe(204);
  });

  test('when the email is not an email, then it is 422', async () => {
    const res = await requestReset('not-an-email');
    expect(res.status).toBe(422);
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'body', path: '/email' }));
  });

  test('when sending the email fails, then the client still gets 202 and the failure is logged', async () => {
    const failing = await startTestApp({ env: { SMTP_URL: 'smtp://127.0.0.1:9' }, deps: { db: t.db } });
    try {
      const user = await buildUser(failing);
      const res = await failing.request.post('/api/v1/auth/password-reset/request').send({ email: user.email });
      expect(res.status).toBe(202);
      const logged = await eventually(() =>
        failing.logs.entries.find((entry) => entry.message === 'password reset request failed'),
      );
      expect(logged).toMatchObject({ level: 'error', request_id: res.headers['x-request-id'] });
    } finally {
      await failing.close();
    }
  });

  test('when three resets are requested at once, then exactly one emailed link works', async () => {
    // Rounds, because only some interleavings run the requests' invalidations before any of them commits.
    for (let round = 0; round < 4; round += 1) {
      const user = await buildUser(t);
      const accepted = await Promise.all([1, 2, 3].map(() => requestReset(user.email)));
      expect(accepted.map((r) => r.status)).toEqual([202, 202, 202]);
      const tokens = await Promise.all([1, 2, 3].map((n) => resetTokenFor(t, user.email, n)));
      expect(await t.db('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at')).toHaveLength(1);
      const confirmed = [];
      for (const token of tokens) confirmed.push((await confirm(token)).status);
      expect(confirmed.sort()).toEqual([204, 400, 400]);
    }
  });
});

describe('confirmPasswordReset', () => {
  test('when the token is valid, then it is 204, the new password works, the old one does not and sessions are revoked', async () => {
    const user = await buildUser(t);
    const session = await login(t, user.username, VALID_PASSWORD);
    await requestReset(user.email);
    const token = await resetTokenFor(t, user.email);
    t.clock.advance(1_000);
    const res = await confirm(token);
    expect(res.status).toBe(204);
    expect(await loginStatus(user.username, VALID_PASSWORD)).toBe(401);
    expect(await loginStatus(user.username, NEW_PASSWORD)).toBe(200);
    const refreshed = await t.request.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh_token });
    expect(refreshed.status).toBe(401);
    const me = await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${session.access_token}`);
    expect(me.status).toBe(401);
    const stored = await t.db('password_reset_tokens').where({ user_id: user.id }).first();
    expect(stored.used_at).not.toBeNull();
  });

  test('when the token is used a second time, then it is 400 INVALID_RESET_TOKEN and the password stays', async () => {
    const user = await buildUser(t);
    await requestReset(user.email);
    const token = await resetTokenFor(t, user.email);
    expect((await confirm(token)).status).toBe(204);
    const again = await confirm(token, 'Attacker-Horse-12');
    expect(again.status).toBe(400);
    expect(again.body.error_code).toBe('INVALID_RESET_TOKEN');
    expect(await loginStatus(user.username, NEW_PASSWORD)).toBe(200);
  });

  test('when the token has expired by the clock, then it is 400 INVALID_RESET_TOKEN', async () => {
    const user = await buildUser(t);
    await requestReset(user.email);
    const token = await resetTokenFor(t, user.email);
    t.clock.advance(30 * 60 * 1000);
    const res = await confirm(token);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_RESET_TOKEN');
    expect(await loginStatus(user.username, VALID_PASSWORD)).toBe(200);
  });

  test('when the token is unknown, then it is 400 INVALID_RESET_TOKEN', async () => {
    const res = await confirm('Xv1bR9pZz4m3cH2y0oWq8T5kLrQe7uJ6nYdA0sE2Hh1');
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_RESET_TOKEN');
  });

  test('when the new password breaks the policy, then it is 422 naming the rules and the token is not spent', async () => {
    const user = await buildUser(t);
    await requestReset(user.email);
    const token = await resetTokenFor(t, user.email);
    const weak = await confirm(token, 'lowercaseonly');
    expect(weak.status).toBe(422);
    expect(weak.body.details).toContainEqual({
      location: 'body',
      path: '/new_password',
      message: 'must contain a digit',
    });
    expect((await confirm(token)).status).toBe(204);
  });

  test('when the account is locked, then a reset clears the lockout at once', async () => {
    const user = await buildUser(t);
    for (let i = 0; i < 5; i++) await loginStatus(user.username, 'Wrong-Horse-9');
    expect(await loginStatus(user.username, VALID_PASSWORD)).toBe(423);
    await requestReset(user.email);
    expect((await confirm(await resetTokenFor(t, user.email))).status).toBe(204);
    expect(await findUserById(t.db, user.id)).toMatchObject({ failedLoginCount: 0, lockedUntil: null });
    expect(await loginStatus(user.username, NEW_PASSWORD)).toBe(200);
  });

  test('when the body is not JSON, then it is 400 MALFORMED_JSON', async () => {
    const res = await t.request
      .post('/api/v1/auth/password-reset/confirm')
      .set('Content-Type', 'application/json')
      .send('{"token": ');
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('MALFORMED_JSON');
  });

  test('when one token is confirmed three times at once, then exactly one is 204 and only its password logs in', async () => {
    for (let round = 0; round < 4; round += 1) {
      const user = await buildUser(t);
      await requestReset(user.email);
      const token = await resetTokenFor(t, user.email);
      const passwords = ['Racing-Reset-One-1', 'Racing-Reset-Two-2', 'Racing-Reset-Three-3'];
      const results = await Promise.all(passwords.map((password) => confirm(token, password)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      for (const res of results.filter((r) => r.status !== 204)) {
        expect({ status: res.status, error_code: res.body.error_code }).toEqual({
          status: 400,
          error_code: 'INVALID_RESET_TOKEN',
        });
      }
      const winner = passwords[statuses.indexOf(204)];
      const logins = await Promise.all([VALID_PASSWORD, ...passwords].map((p) => loginStatus(user.username, p)));
      expect(logins).toEqual([VALID_PASSWORD, ...passwords].map((p) => (p === winner ? 200 : 401)));
    }
  });

  test('when a reset is confirmed while the user changes their password, then the reset applies and only its password logs in', async () => {
    for (let round = 0; round < 4; round += 1) {
      const user = await buildUser(t);
      await requestReset(user.email);
      const token = await resetTokenFor(t, user.email);
      const [reset, changed] = await Promise.all([
        confirm(token, NEW_PASSWORD),
        t.request
          .put('/api/v1/users/me/password')
          .set(user.auth)
          .send({ current_password: VALID_PASSWORD, new_password: 'Changed-Horse-12' }),
      ]);
      expect(reset.status).toBe(204);
      // A change that came first is overridden by the reset; one that came after finds the password already reset
      // (422) or its access token outdated by it (401).
      expect([204, 401, 422]).toContain(changed.status);
      const logins = await Promise.all(
        [VALID_PASSWORD, 'Changed-Horse-12', NEW_PASSWORD].map((p) => loginStatus(user.username, p)),
      );
      expect(logins).toEqual([401, 401, 200]);
      expect(await t.db('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at')).toEqual([]);
    }
  });
});

describe('reset emails outside development', () => {
  test('when production has no SMTP_URL, then the reset request is 202, a token is stored, and no log line holds it', async () => {
    const base = testConfig({ PUBLIC_BASE_URL: 'https://shop.example.com/' });
    const prod = await startTestApp({
      deps: { db: t.db, config: { ...base, mail: { ...base.mail, logUndelivered: false } } },
    });
    try {
      const user = await buildUser(t);
      const res = await prod.request.post('/api/v1/auth/password-reset/request').send({ email: user.email });
      expect(res.status).toBe(202);
      const warning = await eventually(() =>
        prod.logs.entries.find((e) => e.message === 'email not sent: SMTP_URL is not set'),
      );
      expect(warning).toMatchObject({ level: 'warn', mail: { subject: 'Reset your password' } });
      expect(await t.db('password_reset_tokens').where({ user_id: user.id })).toHaveLength(1);
      const logged = JSON.stringify(prod.logs.entries);
      expect(logged).not.toContain('reset-password?token=');
      expect(logged).not.toContain(user.email);
    } finally {
      await prod.close();
    }
  });

  test('when PASSWORD_RESET_URL is set, then the emailed link follows that template', async () => {
    const custom = await startTestApp({
      env: { PASSWORD_RESET_URL: 'https://app.example.com/#/reset/{token}' },
      deps: { db: t.db },
    });
    try {
      const user = await buildUser(t);
      expect(
        (await custom.request.post('/api/v1/auth/password-reset/request').send({ email: user.email })).status,
      ).toBe(202);
      const mail = await eventually(() => mailsTo(custom, user.email)[0]);
      const token = /#\/reset\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
      expect(token).toBeDefined();
      const rows = await t.db('password_reset_tokens').where({ user_id: user.id });
      expect(rows[0]?.token_hash).toBe(
        createHash('sha256')
          .update(token ?? '')
          .digest('hex'),
      );
    } finally {
      await custom.close();
    }
  });
});
