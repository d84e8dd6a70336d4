import { signAccessToken } from '../src/domain/auth/tokens';
import { startAppWithDatabaseDown } from './support/http-contract';
import { startTestApp } from './support/test-app';

describe('readiness', () => {
  test('when the database is unreachable, then /health/ready is 503 naming the database check, and /health stays 200', async () => {
    const { t } = await startAppWithDatabaseDown();
    try {
      const ready = await t.request.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ error_code: 'SERVICE_UNAVAILABLE', checks: { database: { status: 'down' } } });
      expect(ready.body.message).toContain('database');
      expect(ready.body.checks.database.error).toBe('unreachable or failing');
      expect(JSON.stringify(ready.body)).not.toContain('127.0.0.1');
      expect(ready.headers['retry-after']).toBe('5');
      const live = await t.request.get('/health');
      expect(live.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test('when a request needs the unreachable database, then it is 503 SERVICE_UNAVAILABLE quickly, not a 500', async () => {
    const { t } = await startAppWithDatabaseDown();
    try {
      const token = signAccessToken(1, t.deps.config.secretKey, t.clock.now(), 60);
      const started = Date.now();
      const res = await t.request.get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.body.error_code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await t.close();
    }
  });

  test('when the process is draining, then /health/ready is 503 although the database is up', async () => {
    const t = await startTestApp({ deps: { lifecycle: { isDraining: () => true } } });
    try {
      const res = await t.request.get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.checks.database.status).toBe('up');
      expect(res.body.message).toBe('Not ready: shutting down.');
    } finally {
      await t.close();
    }
  });
});
