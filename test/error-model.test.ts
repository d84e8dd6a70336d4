import { VALID_PASSWORD } from './support/factories';
import { startTestApp, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { MAX_BODY_BYTES: '2048' } });
});
afterAll(async () => {
  await t.close();
});

const ERROR_SHAPE = {
  error_code: expect.stringMatching(/^[A-Z_]+$/),
  message: expect.any(String),
  timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  request_id: expect.any(String),
};
const registration = () => ({ email: `${unique('em')}@example.com`, username: unique('em'), password: VALID_PASSWORD });

describe('bad input is mapped to the error format', () => {
  test('when the JSON body is malformed, then it is 400 MALFORMED_JSON and nothing is stored', async () => {
    const res = await t.request
      .post('/api/v1/users')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@b.c",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ ...ERROR_SHAPE, error_code: 'MALFORMED_JSON' });
    expect(await t.db('users').where({ email: 'a@b.c' }).first()).toBeUndefined();
  });

  test('when the body is over MAX_BODY_BYTES, then it is 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.request.post('/api/v1/users').send({ ...registration(), full_name: 'x'.repeat(3000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ ...ERROR_SHAPE, error_code: 'PAYLOAD_TOO_LARGE' });
  });

  test('when the content type is not one the operation accepts, then it is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await t.request.post('/api/v1/users').set('Content-Type', 'text/plain').send('hello');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ ...ERROR_SHAPE, error_code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  test('when a body has an unknown field, then it is 422 naming it and the user is not created', async () => {
    const body = { ...registration(), is_superuser: true };
    const res = await t.request.post('/api/v1/users').send(body);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ ...ERROR_SHAPE, error_code: 'VALIDATION_ERROR' });
    expect(res.body.details).toContainEqual(expect.objectContaining({ location: 'body', path: '/is_superuser' }));
    expect(await t.db('users').where({ email: body.email }).first()).toBeUndefined();
  });

  test('when fields are missing or of the wrong format, then each one is a detail with location and path', async () => {
    const res = await t.request.post('/api/v1/users').send({ email: 'not-an-email', username: 'ok_name' });
    expect(res.status).toBe(422);
    const paths = res.body.details.map((d: { location: string; path: string }) => `${d.location}:${d.path}`);
    expect(paths).toEqual(expect.arrayContaining(['body:/email', 'body:/password']));
  });

  test('when the body is a JSON array instead of an object, then it is 422', async () => {
    const res = await t.request.post('/api/v1/users').send([registration()]);
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('VALIDATION_ERROR');
  });
});

describe('request ids', () => {
  test('when the client sends a sane X-Request-Id, then it is echoed in the header and error body', async () => {
    const res = await t.request.get('/api/v1/users/me').set('X-Request-Id', 'client-id.42:a_b');
    expect(res.headers['x-request-id']).toBe('client-id.42:a_b');
    expect(res.body.request_id).toBe('client-id.42:a_b');
  });

  test('when the client sends an unsafe or oversized X-Request-Id, then a fresh one is generated', async () => {
    const bad = await t.request.get('/health').set('X-Request-Id', 'evil\tid<script>');
    const long = await t.request.get('/health').set('X-Request-Id', 'a'.repeat(129));
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(long.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('unexpected failures', () => {
  test('when a handler throws, then it is a 500 with no internals in the body, the error is logged, and the next request works', async () => {
    let calls = 0;
    const failsOnce = {
      now: () => {
        calls += 1;
        if (calls === 1) throw new Error('secret internal detail');
        return new Date();
      },
    };
    const broken = await startTestApp({ deps: { clock: failsOnce, db: t.db } });
    try {
      const res = await broken.request.get('/health');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({
        ...ERROR_SHAPE,
        error_code: 'INTERNAL_ERROR',
        message: 'An unexpected error occurred.',
      });
      expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
      const logged = broken.logs.entries.find((e) => e.message === 'request failed');
      expect(JSON.stringify(logged)).toContain('secret internal detail');
      expect(logged?.request_id).toBe(res.body.request_id);
      const next = await broken.request.get('/health');
      expect(next.status).toBe(200);
    } finally {
      await broken.close();
    }
  });

  test('when a response breaks the spec, then it becomes a 500 and the violation is logged', async () => {
    const farFuture = new Date(8.64e15);
    const drifting = await startTestApp({ deps: { clock: { now: () => farFuture }, db: t.db } });
    try {
      const res = await drifting.request.get('/health');
      expect(res.status).toBe(500);
      expect(res.body.error_code).toBe('INTERNAL_ERROR');
      const logged = drifting.logs.entries.find((e) => e.message === 'response violates the spec');
      expect(JSON.stringify(logged?.violations)).toContain('timestamp');
    } finally {
      await drifting.close();
    }
  });

  test('when response validation is switched off, then the same drift is served as is', async () => {
    const farFuture = new Date(8.64e15);
    const lax = await startTestApp({
      env: { VALIDATE_RESPONSES: 'false' },
      deps: { clock: { now: () => farFuture }, db: t.db },
    });
    try {
      const res = await lax.request.get('/health');
      expect(res.status).toBe(200);
      expect(res.body.timestamp).toBe(farFuture.toISOString());
    } finally {
      await lax.close();
    }
  });
});
