import { buildUser, VALID_PASSWORD } from './support/factories';
import { MemoryTransport, startTestApp, testConfig, type TestApp } from './support/test-app';
import { createLogger, redact, REDACTED } from '../src/lib/logger';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('request logs', () => {
  test('when a request completes, then one line records method, route template, operationId, status, duration, request and user ids', async () => {
    const user = await buildUser(t);
    const res = await t.request.get('/api/v1/users/me').set(user.auth);
    const line = t.logs.entries.find((e) => e.message === 'request' && e.request_id === res.headers['x-request-id']);
    expect(line).toMatchObject({
      method: 'GET',
      route: '/api/v1/users/me',
      operation_id: 'getCurrentUser',
      status: 200,
      user_id: user.id,
      duration_ms: expect.any(Number),
    });
  });

  test('when a login carries a password and the response a token, then neither appears in any log entry', async () => {
    const user = await buildUser(t);
    const res = await t.request
      .post('/api/v1/auth/login')
      .type('form')
      .send({ username: user.username, password: VALID_PASSWORD });
    expect(res.status).toBe(200);
    await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${res.body.access_token}`);
    const everything = JSON.stringify(t.logs.entries);
    expect(everything).not.toContain(VALID_PASSWORD);
    expect(everything).not.toContain(res.body.access_token);
    expect(everything).not.toContain(res.body.refresh_token);
  });
});

describe('redaction', () => {
  test('when an object holds secrets by key name, bearer credentials or JWTs, then they are replaced at any depth', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const out = redact({
      password: 'p',
      nested: { Authorization: 'Bearer abc', refresh_token: 'r', list: [{ new_password: 'x' }] },
      note: `header was Bearer abc.def and token ${jwt}`,
      keep: 'visible',
    });
    expect(out).toEqual({
      password: REDACTED,
      nested: { Authorization: REDACTED, refresh_token: REDACTED, list: [{ new_password: REDACTED }] },
      note: `header was Bearer ${REDACTED} and token ${REDACTED}`,
      keep: 'visible',
    });
  });

  test('when the logger is given secrets in metadata, then the written entry is redacted', () => {
    const memory = new MemoryTransport();
    const logger = createLogger(testConfig(), [memory]);
    logger.info('login attempt', { password: 'hunter2', headers: { authorization: 'Bearer abc' }, user: 'alice' });
    expect(JSON.stringify(memory.entries)).not.toContain('hunter2');
    expect(JSON.stringify(memory.entries)).not.toContain('Bearer abc');
    expect(memory.entries[0]).toMatchObject({ user: 'alice', password: REDACTED });
  });

  test('when the pretty format is used, then lines are readable text with the same redaction', () => {
    const lines: string[] = [];
    const memory = new MemoryTransport();
    const logger = createLogger({ logLevel: 'info', logFormat: 'pretty' }, [memory]);
    logger.info('hello', { token: 'abc', n: 1 });
    for (const e of memory.entries) lines.push(String(e[Symbol.for('message') as unknown as string]));
    expect(lines[0]).toMatch(/info.*hello \{"token":"\[REDACTED\]","n":1\}/);
  });
});
