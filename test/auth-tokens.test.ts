import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { buildUser, tokenFor, VALID_PASSWORD } from './support/factories';
import { login } from './support/identity';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const claimsFor = (userId: number, extra: Record<string, unknown> = {}) => {
  const iat = Math.floor(t.clock.now().getTime() / 1000);
  return { sub: String(userId), type: 'access', iat, exp: iat + 600, jti: randomUUID(), ...extra };
};
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const me = (token: string) => t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);

async function expectRejected(token: string, code: string) {
  const res = await me(token);
  expect(res.status).toBe(401);
  expect(res.body.error_code).toBe(code);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
}

describe('access token verification', () => {
  test('when no Authorization header is sent, then it is 401 NOT_AUTHENTICATED with WWW-Authenticate: Bearer', async () => {
    const res = await t.request.get('/api/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('NOT_AUTHENTICATED');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  test('when another scheme than Bearer is sent, then it is 401 NOT_AUTHENTICATED', async () => {
    const res = await t.request.get('/api/v1/users/me').set('Authorization', 'Basic YWxpY2U6c2VjcmV0');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('NOT_AUTHENTICATED');
  });

  test('when the token is not a JWT, then it is 401 INVALID_TOKEN', async () => {
    await expectRejected('not-a-jwt', 'INVALID_TOKEN');
  });

  test('when the token uses alg none, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    await expectRejected(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsFor(user.id))}.`, 'INVALID_TOKEN');
  });

  test('when the token is HS512 with the right key, then it is 401 INVALID_TOKEN (the algorithm is pinned)', async () => {
    const user = await buildUser(t);
    const token = jwt.sign(claimsFor(user.id), t.deps.config.secretKey, { algorithm: 'HS512' });
    await expectRejected(token, 'INVALID_TOKEN');
  });

  test('when the token is RS256 signed with some private key, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign(claimsFor(user.id), privateKey, { algorithm: 'RS256' });
    await expectRejected(token, 'INVALID_TOKEN');
  });

  test('when the token is HS256 signed with another key, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const token = jwt.sign(claimsFor(user.id), 'another-key-0123456789abcdef0123456789', { algorithm: 'HS256' });
    await expectRejected(token, 'INVALID_TOKEN');
  });

  test('when the signature is altered, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const [header, payload, signature = ''] = user.token.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expectRejected(`${header}.${payload}.${flipped}`, 'INVALID_TOKEN');
  });

  test('when the payload is swapped for another user with the original signature, then it is 401 INVALID_TOKEN', async () => {
    const [victim, attacker] = [await buildUser(t), await buildUser(t)];
    const [header, , signature] = attacker.token.split('.');
    await expectRejected(`${header}.${b64(claimsFor(victim.id))}.${signature}`, 'INVALID_TOKEN');
  });

  test('when the token has no exp, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const claims: Record<string, unknown> = claimsFor(user.id);
    delete claims.exp;
    await expectRejected(jwt.sign(claims, t.deps.config.secretKey, { algorithm: 'HS256' }), 'INVALID_TOKEN');
  });

  test('when the token has expired by the clock, then it is 401 TOKEN_EXPIRED', async () => {
    const user = await buildUser(t);
    expect((await me(user.token)).status).toBe(200);
    t.clock.advance(t.deps.config.auth.accessTokenTtlSeconds * 1000);
    await expectRejected(user.token, 'TOKEN_EXPIRED');
  });

  test('when the token type is not access, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const token = jwt.sign(claimsFor(user.id, { type: 'refresh' }), t.deps.config.secretKey, { algorithm: 'HS256' });
    await expectRejected(token, 'INVALID_TOKEN');
  });

  test('when a refresh token is sent as the bearer token, then it is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    const tokens = await login(t, user.username, VALID_PASSWORD);
    await expectRejected(tokens.refresh_token, 'INVALID_TOKEN');
  });

  test('when the user was deactivated, then a valid token is 403 INACTIVE_USER', async () => {
    const user = await buildUser(t, { isActive: false });
    const res = await me(user.token);
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('INACTIVE_USER');
  });

  test('when the user was deleted, then a valid token is 401 INVALID_TOKEN', async () => {
    const user = await buildUser(t);
    await t.db('users').where({ id: user.id }).delete();
    await expectRejected(user.token, 'INVALID_TOKEN');
  });

  test('when the password changed after the token was issued, then the old token is 401 and a new login works', async () => {
    const user = await buildUser(t);
    t.clock.advance(1_000);
    const changed = await t.request
      .put('/api/v1/users/me/password')
      .set(user.auth)
      .send({ current_password: VALID_PASSWORD, new_password: 'Another-Horse-10' });
    expect(changed.status).toBe(204);
    await expectRejected(user.token, 'INVALID_TOKEN');
    const fresh = await login(t, user.username, 'Another-Horse-10');
    expect((await me(fresh.access_token)).status).toBe(200);
    expect((await me(tokenFor(t, user.id))).status).toBe(200);
  });
});
