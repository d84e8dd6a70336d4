import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { findUserByEmail } from '../../src/data-access/users-repository';
import { createAccount } from '../../src/domain/users/users';
import type { Config } from '../../src/lib/config';
import { AppError } from '../../src/lib/errors';
import type { Logger } from '../../src/lib/logger';
import type { Seed } from './index';

/** Where development keeps the credentials of the superuser it creates for itself, inside DATA_DIR. */
export const DEV_SUPERUSER_FILE = 'dev-superuser.json';

type Credentials = { email: string; username: string; password: string };

/** Creates the first superuser from FIRST_SUPERUSER_EMAIL / FIRST_SUPERUSER_PASSWORD unless that email exists. */
export const firstSuperuser: Seed = {
  name: 'first-superuser',
  run: async (db, config, logger) => {
    const first = config.auth.firstSuperuser;
    if (first) {
      await ensureSuperuser(db, config, logger, first, 'FIRST_SUPERUSER_PASSWORD');
      return;
    }
    if (config.env !== 'development') {
      logger.info('FIRST_SUPERUSER_EMAIL is not set: no superuser seeded');
      return;
    }
    await ensureDevelopmentSuperuser(db, config, logger);
  },
};

/** Creates the superuser unless its email exists; true when this call created it. */
async function ensureSuperuser(
  db: Knex,
  config: Config,
  logger: Logger,
  who: Credentials,
  passwordSource: string,
): Promise<boolean> {
  if (await findUserByEmail(db, who.email)) {
    logger.info('first superuser already exists', { email: who.email.toLowerCase() });
    return false;
  }
  try {
    const user = await createAccount(
      { db, config },
      { email: who.email, username: who.username, fullName: null, password: who.password },
      { isSuperuser: true },
    );
    logger.info('first superuser created', { user_id: user.id, email: user.email });
    return true;
  } catch (err) {
    // Another process seeding at the same moment created it first.
    if (err instanceof AppError && err.code === 'EMAIL_TAKEN') return false;
    if (err instanceof AppError && err.code === 'VALIDATION_ERROR') {
      throw new Error(`${passwordSource}: ${err.issues?.map((issue) => issue.message).join(', ')}`);
    }
    throw err;
  }
}

/**
 * Development only, when no FIRST_SUPERUSER_EMAIL is set: a superuser with a random password, whose credentials are
 * kept in DATA_DIR/dev-superuser.json and printed when it is created, so a newcomer can Authorize in /docs at once.
 * Later runs on the same data directory keep the same user and file.
 */
async function ensureDevelopmentSuperuser(db: Knex, config: Config, logger: Logger): Promise<void> {
  const file = path.join(config.dataDir, DEV_SUPERUSER_FILE);
  let credentials = readCredentials(file);
  const fresh = !credentials;
  if (!credentials) {
    // Upper, lower, digit and symbol, so the password policy always accepts it.
    credentials = {
      email: 'admin@example.com',
      username: 'admin',
      password: `Dev-${randomBytes(12).toString('hex')}-9a`,
    };
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  }
  const created = await ensureSuperuser(db, config, logger, credentials, file);
  if (!created && fresh) {
    // The user is there but its file is gone: its password is not known here, so keep no file that claims it.
    fs.rmSync(file, { force: true });
    logger.warn(
      `${credentials.email} exists but ${file} is gone: set FIRST_SUPERUSER_EMAIL to create another superuser`,
    );
    return;
  }
  if (!created) {
    logger.info(`development superuser: ${credentials.username}, password in ${file}`);
    return;
  }
  // Printed once, on the run that creates the user; the file keeps them.
  console.log(
    [
      '',
      'Development superuser created (development only; set FIRST_SUPERUSER_EMAIL to choose your own):',
      `  username: ${credentials.username}   email: ${credentials.email}`,
      `  password: ${credentials.password}`,
      `  kept in:  ${file}`,
      'Log in at /docs: Authorize, then enter the username and password.',
      '',
    ].join('\n'),
  );
}

function readCredentials(file: string): Credentials | undefined {
  if (!fs.existsSync(file)) return undefined;
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Credentials>;
  if (!value.email || !value.username || !value.password) throw new Error(`${file} is not a credentials file`);
  return { email: value.email, username: value.username, password: value.password };
}
