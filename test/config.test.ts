import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { ConfigError, loadConfig, withoutPassword } from '../src/lib/config';

// Development configurations keep a signing key in DATA_DIR: each test gets its own directory.
const devDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
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
      secretKeySource: 'data-dir',
      seedDemoData: true,
    });
    expect(config.secretKey.length).toBeGreaterThanOrEqual(32);
  });

  test('when development has no SECRET_KEY, then a key is created in DATA_DIR once and every later start signs with it', () => {
    const dir = devDir();
    const first = loadConfig({ DATA_DIR: dir });
    const again = loadConfig({ DATA_DIR: dir });
    expect(first.secretKeySource).toBe('data-dir');
    expect(again.secretKey).toBe(first.secretKey);
    const file = path.join(dir, 'dev-secret-key');
    expect(fs.readFileSync(file, 'utf8')).toBe(first.secretKey);
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['dev-secret-key']);
    expect(loadConfig({ DATA_DIR: devDir() }).secretKey).not.toBe(first.secretKey);
  });

  test('when SECRET_KEY is set or the environment is test, then nothing is written to DATA_DIR', () => {
    const dir = devDir();
    expect(loadConfig({ DATA_DIR: dir, SECRET_KEY: STRONG_SECRET })).toMatchObject({ secretKeySource: 'env' });
    expect(loadConfig({ DATA_DIR: dir, NODE_ENV: 'test' })).toMatchObject({ secretKeySource: 'random' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('when the reset link template is set, then it must carry {token}; by default it is under PUBLIC_BASE_URL', () => {
    const env = { NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://shop.example.com/' };
    expect(loadConfig(env).mail.resetUrlTemplate).toBe('https://shop.example.com/reset-password?token={token}');
    const custom = loadConfig({ ...env, PASSWORD_RESET_URL: 'https://app.example.com/#/reset/{token}' });
    expect(custom.mail.resetUrlTemplate).toBe('https://app.example.com/#/reset/{token}');
    expect(problemsOf({ ...env, PASSWORD_RESET_URL: 'https://app.example.com/reset' })).toEqual([
      'PASSWORD_RESET_URL: must be an http(s) URL containing {token}',
    ]);
  });

  test('when production runs without SEED_DEMO_DATA, then no demo data is seeded and undelivered mail is not logged', () => {
    const production = { NODE_ENV: 'production', SECRET_KEY: STRONG_SECRET };
    expect(loadConfig(production)).toMatchObject({ seedDemoData: false, mail: { logUndelivered: false } });
    expect(loadConfig({ ...production, SEED_DEMO_DATA: 'true' })).toMatchObject({ seedDemoData: true });
  });

  test('when EMBEDDED_SHARED_BUFFERS is set, then the embedded engine gets it; unset it is 128MB; a bare number is refused', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).database).toMatchObject({ kind: 'pglite', sharedBuffers: '128MB' });
    const small = loadConfig({ NODE_ENV: 'test', EMBEDDED_SHARED_BUFFERS: '16MB' });
    expect(small.database).toMatchObject({ kind: 'pglite', sharedBuffers: '16MB' });
    for (const bad of ['128', '0MB', '1 GB', '2TB']) {
      expect(problemsOf({ NODE_ENV: 'test', EMBEDDED_SHARED_BUFFERS: bad })).toEqual([
        'EMBEDDED_SHARED_BUFFERS: must be a size such as 128MB',
      ]);
    }
  });

  test('when DATABASE_URL is set, then PostgreSQL is used with the pool settings', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', DB_POOL_MAX: '20', DATA_DIR: devDir() });
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

  test('when WEB_CONCURRENCY asks for several workers on the embedded database, then start-up is refused', () => {
    const refused = ['WEB_CONCURRENCY: needs DATABASE_URL: the embedded database belongs to one process'];
    expect(problemsOf({ WEB_CONCURRENCY: '2', DATA_DIR: devDir() })).toEqual(refused);
    expect(problemsOf({ WEB_CONCURRENCY: 'auto', DATA_DIR: devDir() })).toEqual(refused);
    expect(
      loadConfig({ WEB_CONCURRENCY: '2', DATABASE_URL: 'postgres://u@h:5432/db', DATA_DIR: devDir() }).webConcurrency,
    ).toBe(2);
  });

  test('when the pool minimum exceeds the maximum, then start-up is refused', () => {
    expect(problemsOf({ DB_POOL_MIN: '5', DB_POOL_MAX: '2' })).toEqual(['DB_POOL_MIN: must not exceed DB_POOL_MAX']);
  });

  test('when SHUTDOWN_DELAY_MS is not set, then production keeps accepting for 5 s after a signal and development not at all', () => {
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY: STRONG_SECRET }).shutdownDelayMs).toBe(5_000);
    expect(loadConfig({ NODE_ENV: 'test' }).shutdownDelayMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: devDir() }).shutdownDelayMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test', SHUTDOWN_DELAY_MS: '1500' }).shutdownDelayMs).toBe(1_500);
    expect(problemsOf({ NODE_ENV: 'test', SHUTDOWN_DELAY_MS: '-1' })[0]).toMatch(/^SHUTDOWN_DELAY_MS: /);
  });
});

describe('URLs in messages', () => {
  test('when a URL holds a password, then withoutPassword shows everything else and *** for the password', () => {
    expect(withoutPassword('postgres://app:s3cret@db.internal:5432/shop?sslmode=require')).toBe(
      'postgres://app:***@db.internal:5432/shop?sslmode=require',
    );
    expect(withoutPassword('postgres://app@db/shop?password=s3cret')).toBe('postgres://app@db/shop?password=***');
    expect(withoutPassword('postgres://app@db/shop')).toBe('postgres://app@db/shop');
    expect(withoutPassword('not a url s3cret')).not.toContain('s3cret');
  });
});

describe('the example environment file', () => {
  test('when .env.example is loaded as it is, then it is a valid development configuration', () => {
    const env = dotenv.parse(fs.readFileSync(path.resolve(__dirname, '../.env.example')));
    expect(loadConfig({ ...env, DATA_DIR: devDir() })).toMatchObject({
      env: 'development',
      port: 8000,
      database: { kind: 'pglite' },
    });
  });
});
