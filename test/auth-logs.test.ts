import { buildUser, VALID_PASSWORD } from './support/factories';
import { login, mailsTo, resetTokenFor } from './support/identity';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('secrets in logs', () => {
  test('when a user registers, logs in, refreshes, fails, changes and resets the password, then no password or token is logged', async () => {
    const name = unique('logs');
    const email = `${name}@example.com`;
    const [wrong, changed, reset] = ['Wrong-Horse-77', 'Changed-Horse-78', 'Reset-Horse-79'];
    const registered = await t.request.post('/api/v1/users').send({ email, username: name, password: VALID_PASSWORD });
    expect(registered.status).toBe(201);
    await t.request.post('/api/v1/auth/login').type('form').send({ username: name, password: wrong });
    const first = await login(t, name, VALID_PASSWORD);
    const second = (await t.request.post('/api/v1/auth/refresh').send({ refresh_token: first.refresh_token })).body;
    await t.request.post('/api/v1/auth/refresh').send({ refresh_token: first.refresh_token });
    await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${second.access_token}`);
    await t.request
      .put('/api/v1/users/me/password')
      .set('Authorization', `Bearer ${second.access_token}`)
      .send({ current_password: VALID_PASSWORD, new_password: changed });
    await t.request.post('/api/v1/auth/password-reset/request').send({ email });
    const resetToken = await resetTokenFor(t, email);
    expect(
      (await t.request.post('/api/v1/auth/password-reset/confirm').send({ token: resetToken, new_password: reset }))
        .status,
    ).toBe(204);
    const third = await login(t, name, reset);
    await t.request.post('/api/v1/auth/logout').send({ refresh_token: third.refresh_token });
    const admin = await buildUser(t, { isSuperuser: true });
    await t.request
      .patch(`/api/v1/users/${registered.body.id}`)
      .set(admin.auth)
      .send({ password: 'Admin-Set-Horse-80' });

    const secrets = [
      VALID_PASSWORD,
      wrong,
      changed,
      reset,
      'Admin-Set-Horse-80',
      first.access_token,
      first.refresh_token,
      second.access_token,
      second.refresh_token,
      third.access_token,
      third.refresh_token,
      admin.token,
    ];
    const logged = JSON.stringify(t.logs.entries);
    expect(t.logs.entries.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(logged).not.toContain(secret);
    // The reset link is written to the log only by the development mail transport, in the email itself.
    const mails = JSON.stringify(mailsTo(t, email));
    expect(logged.split(resetToken).length - 1).toBe(mails.split(resetToken).length - 1);
  });
});
