import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoCatalog } from '../db/seeds/demo-catalog';
import { DEV_SUPERUSER_FILE, firstSuperuser } from '../db/seeds/first-superuser';
import { seeds } from '../db/seeds';
import { findUserByEmail } from '../src/data-access/users-repository';
import { login } from './support/identity';
import { startTestApp, testConfig, unique, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const PASSWORD = 'First-Admin-Horse-1';
const configFor = (email: string, username: string, password = PASSWORD) =>
  testConfig({ FIRST_SUPERUSER_EMAIL: email, FIRST_SUPERUSER_PASSWORD: password, FIRST_SUPERUSER_USERNAME: username });

describe('first superuser seed', () => {
  test('when the seed runs twice, then exactly one active superuser with that email exists and can log in', async () => {
    const name = unique('root');
    const config = configFor(`${name.toUpperCase()}@Example.com`, name);
    await firstSuperuser.run(t.db, config, t.deps.logger);
    await firstSuperuser.run(t.db, config, t.deps.logger);
    const rows = await t.db('users').where({ email: `${name}@example.com` });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ username: name, is_superuser: true, is_active: true });
    await login(t, name, PASSWORD);
  });

  test('when the user exists with another password, then the seed leaves it alone', async () => {
    const name = unique('root');
    await firstSuperuser.run(t.db, configFor(`${name}@example.com`, name), t.deps.logger);
    const before = await findUserByEmail(t.db, `${name}@example.com`);
    await firstSuperuser.run(t.db, configFor(`${name}@example.com`, name, 'Other-Admin-Horse-2'), t.deps.logger);
    expect((await findUserByEmail(t.db, `${name}@example.com`))?.hashedPassword).toBe(before?.hashedPassword);
  });

  test('when FIRST_SUPERUSER_EMAIL is not set, then nothing is created', async () => {
    // Both counts in one snapshot: on PostgreSQL, test files running alongside add users to the same tables.
    const trx = await t.db.transaction({ isolationLevel: 'repeatable read' });
    try {
      const before = await trx('users').count({ n: '*' });
      await firstSuperuser.run(trx, testConfig(), t.deps.logger);
      expect(await trx('users').count({ n: '*' })).toEqual(before);
    } finally {
      await trx.rollback();
    }
  });

  test('when the password breaks the policy, then the seed fails naming the variable and the rules', async () => {
    const name = unique('root');
    await expect(
      firstSuperuser.run(t.db, configFor(`${name}@example.com`, name, 'weak'), t.deps.logger),
    ).rejects.toThrow(/FIRST_SUPERUSER_PASSWORD: .*must contain a digit/);
    expect(await findUserByEmail(t.db, `${name}@example.com`)).toBeUndefined();
  });

  test('when only one of the two variables is set, then the configuration is refused', () => {
    expect(() => testConfig({ FIRST_SUPERUSER_EMAIL: 'root@example.com' })).toThrow(/FIRST_SUPERUSER_PASSWORD/);
  });

  test('when the seeds are listed, then the first superuser seed is among them', () => {
    expect(seeds).toContain(firstSuperuser);
  });
});

describe('development superuser', () => {
  // testConfig is NODE_ENV=test; the development seed needs a development config with its own data directory.
  const developmentConfig = (dataDir: string) => ({ ...testConfig(), env: 'development' as const, dataDir });
  const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dev-superuser-'));

  test('when development seeds an empty database without FIRST_SUPERUSER_EMAIL, then it creates a superuser, keeps its credentials in DATA_DIR and keeps the same user on the next run', async () => {
    // The one fixed identity of the seed: a row left by an earlier run of this test would hide the creation.
    await t.db('users').where({ email: 'admin@example.com' }).del();
    const dir = tempDir();
    const printed = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await firstSuperuser.run(t.db, developmentConfig(dir), t.deps.logger);
      const file = path.join(dir, DEV_SUPERUSER_FILE);
      const credentials = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
      expect(credentials).toMatchObject({ email: 'admin@example.com', username: 'admin' });
      expect(fs.statSync(file).mode & 0o077).toBe(0);
      expect(printed.mock.calls.join('\n')).toContain(credentials.password);
      const rows = await t.db('users').where({ email: 'admin@example.com' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ username: 'admin', is_superuser: true, is_active: true });
      await login(t, 'admin', credentials.password ?? '');

      printed.mockClear();
      await firstSuperuser.run(t.db, developmentConfig(dir), t.deps.logger);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(credentials);
      expect(await t.db('users').where({ email: 'admin@example.com' })).toHaveLength(1);
      expect(printed).not.toHaveBeenCalled();
      await login(t, 'admin', credentials.password ?? '');
    } finally {
      printed.mockRestore();
    }
  });

  test('when the data directory already holds credentials, then a fresh database gets that same user', async () => {
    const dir = tempDir();
    const name = unique('devroot');
    const credentials = { email: `${name}@example.com`, username: name, password: 'Kept-Dev-Horse-7' };
    fs.writeFileSync(path.join(dir, DEV_SUPERUSER_FILE), JSON.stringify(credentials));
    const printed = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await firstSuperuser.run(t.db, developmentConfig(dir), t.deps.logger);
    } finally {
      printed.mockRestore();
    }
    expect(await t.db('users').where({ email: credentials.email, is_superuser: true })).toHaveLength(1);
    await login(t, name, credentials.password);
  });

  test('when the environment is test or production, then no development superuser or file is created', async () => {
    const dir = tempDir();
    const admins = () => t.db('users').where({ email: 'admin@example.com' }).count({ n: '*' });
    const before = await admins();
    await firstSuperuser.run(t.db, { ...testConfig(), dataDir: dir }, t.deps.logger);
    await firstSuperuser.run(t.db, { ...testConfig(), env: 'production', dataDir: dir }, t.deps.logger);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await admins()).toEqual(before);
  });
});

describe('demo data seed', () => {
  test('when SEED_DEMO_DATA is off (the production default), then no demo product, post or author is inserted', async () => {
    // Nothing else in the suite seeds demo data, so its categories and author exist only if this seed wrote them.
    await demoCatalog.run(t.db, testConfig({ SEED_DEMO_DATA: 'false' }), t.deps.logger);
    expect(await t.db('categories').whereIn('slug', ['kitchen', 'garden', 'books', 'electronics', 'outdoors'])).toEqual(
      [],
    );
    expect(await t.db('users').where({ username: 'demo-author' })).toEqual([]);
    expect(t.logs.entries.some((e) => String(e.message).startsWith('demo data not seeded'))).toBe(true);
  });
});
