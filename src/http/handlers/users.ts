import { findUserById } from '../../data-access/users-repository';
import { changePassword } from '../../domain/users/change-password';
import { deleteUser } from '../../domain/users/delete-user';
import { listUsers } from '../../domain/users/list-users';
import { registerUser } from '../../domain/users/register-user';
import { updateProfile, updateUser } from '../../domain/users/update-user';
import { AppError } from '../../lib/errors';
import { pageOf, requireCaller } from '../inputs/actor';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../binding/operations';
import { presentUser, presentUserPage } from '../presenters/users';

const userNotFound = () => new AppError('USER_NOT_FOUND', 'The user does not exist.');

/** Handlers of the `users` tag. */
export function usersHandlers(deps: AppDeps) {
  const registrationDeps = { db: deps.db, bcryptRounds: deps.config.auth.bcryptRounds };
  const userDeps = { ...registrationDeps, clock: deps.clock };
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
      // The row authentication just loaded for this request; no second query.
      const user = caller && (caller.user ?? (await findUserById(deps.db, caller.id)));
      if (!user) throw userNotFound();
      return { status: 200, body: presentUser(user) };
    },

    updateCurrentUser: async ({ body, caller }) => {
      const changes = { email: body.email, username: body.username, fullName: body.full_name };
      return { status: 200, body: presentUser(await updateProfile(userDeps, requireCaller(caller).id, changes)) };
    },

    changePassword: async ({ body, caller }) => {
      await changePassword(deps, requireCaller(caller).id, body.current_password, body.new_password);
      return { status: 204 };
    },

    deleteCurrentUser: async ({ caller }) => {
      await deleteUser(deps, requireCaller(caller).id);
      return { status: 204 };
    },

    listUsers: async ({ query }) => {
      const filters = { q: query.q, isActive: query.is_active, isSuperuser: query.is_superuser };
      const page = await listUsers(deps, filters, query.sort, pageOf(query));
      return { status: 200, body: presentUserPage(page) };
    },

    // Another user's id is a 404 for a non-superuser, the same answer as a missing one, so ids cannot be probed.
    getUser: async ({ params, caller }) => {
      const { id, isSuperuser } = requireCaller(caller);
      const user = isSuperuser || id === params.user_id ? await findUserById(deps.db, params.user_id) : undefined;
      if (!user) throw userNotFound();
      return { status: 200, body: presentUser(user) };
    },

    updateUser: async ({ params, body }) => {
      const user = await updateUser(userDeps, params.user_id, {
        email: body.email,
        username: body.username,
        fullName: body.full_name,
        isActive: body.is_active,
        isSuperuser: body.is_superuser,
        password: body.password,
      });
      return { status: 200, body: presentUser(user) };
    },

    deleteUser: async ({ params }) => {
      await deleteUser(deps, params.user_id);
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}
