import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('meta endpoints', () => {
  test('when /health is called, then it answers healthy with a timestamp and a request id', async () => {
    const res = await t.request.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'healthy', timestamp: t.clock.now().toISOString() });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('when the database answers, then /health/ready is 200 with the database check up', async () => {
    const res = await t.request.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.database.status).toBe('up');
  });

  test('when an unknown route is called, then it is a JSON 404 in the error format', async () => {
    const res = await t.request.get('/api/v1/nope').set('X-Request-Id', 'abc-123');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_code: 'NOT_FOUND', request_id: 'abc-123' });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  test('when a method is not declared for a path, then it is 405 with Allow', async () => {
    const res = await t.request.post('/health');
    expect(res.status).toBe(405);
    expect(res.body.error_code).toBe('METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toContain('GET');
  });
});

describe('probes and unknown query parameters', () => {
  // One rule everywhere (see the spec's description): probes refuse unknown parameters like every operation.
  test('when a probe adds an unknown query parameter, then it answers the declared 422 VALIDATION_ERROR', async () => {
    const live = await t.request.get('/health?_=123');
    const ready = await t.request.get('/health/ready?_=123');
    expect([live.status, ready.status]).toEqual([422, 422]);
    expect(live.body).toMatchObject({ error_code: 'VALIDATION_ERROR', details: [{ location: 'query', path: '/_' }] });
  });
});
