import { findUserByEmail } from '../../src/data-access/users-repository';
import { registerUser } from '../../src/domain/users/register-user';
import { AppError } from '../../src/lib/errors';
import type { Seed } from './index';

/** Creates the first superuser from FIRST_SUPERUSER_EMAIL / FIRST_SUPERUSER_PASSWORD unless that email exists. */
export const firstSuperuser: Seed = {
  name: 'first-superuser',
  run: async (db, config, logger) => {
    const first = config.auth.firstSuperuser;
    if (!first) {
      logger.info('FIRST_SUPERUSER_EMAIL is not set: no superuser seeded');
      return;
    }
    if (await findUserByEmail(db, first.email)) {
      logger.info('first superuser already exists', { email: first.email.toLowerCase() });
      return;
    }
    try {
      const user = await registerUser(
        { db, bcryptRounds: config.auth.bcryptRounds },
        { email: first.email, username: first.username, fullName: null, password: first.password },
        { isSuperuser: true },
      );
      logger.info('first superuser created', { user_id: user.id, email: user.email });
    } catch (err) {
      // Another process seeding at the same moment created it first.
      if (err instanceof AppError && err.code === 'EMAIL_TAKEN') return;
      if (err instanceof AppError && err.code === 'VALIDATION_ERROR') {
        throw new Error(`FIRST_SUPERUSER_PASSWORD: ${err.details?.map((d) => d.message).join(', ')}`);
      }
      throw err;
    }
  },
};
