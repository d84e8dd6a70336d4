import { findUserById } from '../../data-access/users-repository';
import { registerUser } from '../../domain/users/register-user';
import { AppError } from '../../lib/errors';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../operations';
import { presentUser } from '../presenters';

/** Handlers of the `users` tag. */
export function usersHandlers(deps: AppDeps) {
  const registrationDeps = { db: deps.db, bcryptRounds: deps.config.auth.bcryptRounds };
  return {
    createUser: async ({ body, caller, baseUrl }) => {
      if (!deps.config.auth.openRegistration && !caller?.isSuperuser) {
        throw new AppError('FORBIDDEN', 'Registration is closed; a superuser must create accounts.');
      }
      const user = await registerUser(registrationDeps, {
        email: body.email,
        username: body.username,
        fullName: body.full_name ?? null,
        password: body.password,
      });
      return { status: 201, headers: { Location: `${baseUrl}/api/v1/users/${user.id}` }, body: presentUser(user) };
    },

    getCurrentUser: async ({ caller }) => {
      const user = caller && (await findUserById(deps.db, caller.id));
      if (!user) throw new AppError('USER_NOT_FOUND', 'The user does not exist.');
      return { status: 200, body: presentUser(user) };
    },
  } satisfies PartialHandlers;
}
