import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { buildUser, tokenFor, VALID_PASSWORD } from './support/factories';
import { login } from './support/identity';
import { startTestApp, testConfig, type TestApp } from './support/test-app';
import { keyId } from '../src/domain/auth/tokens';
import { loadConfig } from '../src/lib/config';

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

describe('signing key rotation', () => {
  const KEY_A = 'test-secret-key-0123456789abcdef0123456789';
  const KEY_B = 'rotated-key-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210';
  const kidOf = (token: string) => (jwt.decode(token, { complete: true })?.header as { kid?: string } | undefined)?.kid;
  const meOn = (app: TestApp, token: string) =>
    app.request.get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);

  test('when the key is rotated across restarts, then tokens of the previous key work until it is dropped, new tokens name the new key, and an unknown kid is 401', async () => {
    const user = await buildUser(t);
    const before = await login(t, user.username, VALID_PASSWORD);
    expect(kidOf(before.access_token)).toBe(keyId(KEY_A));

    // Step 1 of a rotation: the new key signs, the old one still verifies.
    const rotated = await startTestApp({ env: { SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: KEY_A }, deps: { db: t.db } });
    // Step 2, once every token of the old key has expired: the old key is dropped.
    const dropped = await startTestApp({ env: { SECRET_KEY: KEY_B }, deps: { db: t.db } });
    try {
      const old = await meOn(rotated, before.access_token);
      expect(old.status).toBe(200);
      expect(old.body.id).toBe(user.id);
      const after = await login(rotated, user.username, VALID_PASSWORD);
      expect(kidOf(after.access_token)).toBe(keyId(KEY_B));
      expect((await meOn(dropped, after.access_token)).status).toBe(200);

      const refused = await meOn(dropped, before.access_token);
      expect(refused.status).toBe(401);
      expect(refused.body.error_code).toBe('INVALID_TOKEN');

      const claims = claimsFor(user.id);
      const unknownKid = jwt.sign(claims, KEY_B, { algorithm: 'HS256', keyid: 'no-such-key' });
      expect((await meOn(rotated, unknownKid)).body).toMatchObject({ error_code: 'INVALID_TOKEN' });
      // A token without kid (signed before tokens named their key) is checked against the current key only.
      expect((await meOn(rotated, jwt.sign(claims, KEY_B, { algorithm: 'HS256' }))).status).toBe(200);
      const oldKeyNoKid = await meOn(rotated, jwt.sign(claims, KEY_A, { algorithm: 'HS256' }));
      expect(oldKeyNoKid.status).toBe(401);
      // The kid must match the key that signed: the previous key's kid on a token forged with another key fails.
      const forged = jwt.sign(claims, 'another-key-0123456789abcdef0123456789', {
        algorithm: 'HS256',
        keyid: keyId(KEY_A),
      });
      expect((await meOn(rotated, forged)).status).toBe(401);
    } finally {
      await rotated.close();
      await dropped.close();
    }
  });

  test('when a previous key repeats the current one or is short in production, then start-up is refused naming SECRET_KEY_PREVIOUS', () => {
    expect(() => testConfig({ SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: `${KEY_A}, ${KEY_B}` })).toThrow(
      /SECRET_KEY_PREVIOUS/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: KEY_B, SECRET_KEY_PREVIOUS: 'short' })).toThrow(
      /SECRET_KEY_PREVIOUS: each key must be at least 32 characters/,
    );
    expect(testConfig({ SECRET_KEY_PREVIOUS: ` ${KEY_B} ,, ` }).previousSecretKeys).toEqual([KEY_B]);
  });
});
