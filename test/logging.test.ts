import { buildUser, VALID_PASSWORD } from './support/factories';
import { MemoryTransport, startTestApp, testConfig, type TestApp } from './support/test-app';
import { createLogger, logRequest, redact, REDACTED, type RequestLine } from '../src/lib/logger';

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

  test('when a request line is logged by a JSON logger, then it is the line and entry winston would write, redacted and filtered by level', () => {
    const MESSAGE = Symbol.for('message') as unknown as string;
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const lines: RequestLine[] = [
      {
        request_id: 'r-1',
        method: 'GET',
        route: '/health',
        operation_id: 'getHealth',
        status: 200,
        duration_ms: 0.04,
        user_id: undefined,
      },
      {
        request_id: jwt,
        method: 'DELETE',
        route: `/docs/${jwt}"\\`,
        operation_id: undefined,
        status: 404,
        duration_ms: 12.5,
        user_id: 42,
      },
    ];
    for (const line of lines) {
      const viaWinston = new MemoryTransport();
      const direct = new MemoryTransport();
      createLogger({ logLevel: 'info', logFormat: 'json' }, [viaWinston]).log('warn', 'request', line);
      logRequest(createLogger({ logLevel: 'info', logFormat: 'json' }, [direct]), 'warn', line);
      const [expected, actual] = [viaWinston.entries[0], direct.entries[0]];
      const withoutTime = (text: unknown) => String(text).replace(/"timestamp":"[^"]+"/, '');
      expect(withoutTime(actual?.[MESSAGE])).toBe(withoutTime(expected?.[MESSAGE]));
      // The fields a transport reads (winston's own symbol keys aside, the formatted line is compared above).
      const fields = (entry: object | undefined) => ({
        ...Object.fromEntries(Object.entries(entry ?? {})),
        timestamp: 0,
      });
      expect(fields(actual)).toEqual(fields(expected));
      expect(String(actual?.[MESSAGE])).not.toContain(jwt);
    }
    const quiet = new MemoryTransport();
    logRequest(createLogger({ logLevel: 'error', logFormat: 'json' }, [quiet]), 'warn', lines[0] as RequestLine);
    expect(quiet.entries).toEqual([]);
  });
});
