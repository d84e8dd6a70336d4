import { firstSuperuser } from '../db/seeds/first-superuser';
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
    const before = await t.db('users').count({ n: '*' });
    await firstSuperuser.run(t.db, testConfig(), t.deps.logger);
    expect(await t.db('users').count({ n: '*' })).toEqual(before);
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
