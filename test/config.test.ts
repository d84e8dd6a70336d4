import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from '../src/lib/config';

const STRONG_SECRET = 'k8Zq2vN4xR7tY1wB5mC9pL3sD6fG0hJ2aQ4eW7uI';
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration', () => {
  test('when the environment is empty, then development defaults apply with the embedded database', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 8000,
      database: { kind: 'pglite', dataDir: './.data' },
      maxBodyBytes: 1048576,
      validateResponses: true,
      logFormat: 'pretty',
      secretKeySet: false,
    });
    expect(config.secretKey.length).toBeGreaterThanOrEqual(32);
  });

  test('when DATABASE_URL is set, then PostgreSQL is used with the pool settings', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', DB_POOL_MAX: '20' });
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgres://u@h:5432/db', poolMax: 20 });
  });

  test('when production has no SECRET_KEY, then start-up is refused naming it', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['SECRET_KEY: is required in production']);
  });

  test('when production has a short or placeholder SECRET_KEY, then start-up is refused', () => {
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'short' })[0]).toContain('at least 32');
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'change-me-change-me-change-me-change-me' })[0]).toContain(
      'placeholder',
    );
  });

  test('when production has a strong SECRET_KEY, then responses are not validated and logs are JSON by default', () => {
    const config = loadConfig({ NODE_ENV: 'production', SECRET_KEY: STRONG_SECRET });
    expect(config).toMatchObject({ validateResponses: false, logFormat: 'json', secretKey: STRONG_SECRET });
  });

  test('when several variables are bad, then every one is named', () => {
    const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', VALIDATE_RESPONSES: 'maybe' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'PORT', 'VALIDATE_RESPONSES']);
  });

  test('when the pool minimum exceeds the maximum, then start-up is refused', () => {
    expect(problemsOf({ DB_POOL_MIN: '5', DB_POOL_MAX: '2' })).toEqual(['DB_POOL_MIN: must not exceed DB_POOL_MAX']);
  });
});

describe('the example environment file', () => {
  test('when .env.example is loaded as it is, then it is a valid development configuration', () => {
    const env = dotenv.parse(fs.readFileSync(path.resolve(__dirname, '../.env.example')));
    expect(loadConfig(env)).toMatchObject({ env: 'development', port: 8000, database: { kind: 'pglite' } });
  });
});
