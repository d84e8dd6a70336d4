import {
  changePassword,
  deleteUser,
  getCurrentUser,
  getUser,
  listUsers,
  registerUser,
  updateProfile,
  updateUser,
} from '../../domain/users/users';
import type { Links } from '../binding/links';
import type { PartialHandlers } from '../binding/operations';
import type { AppDeps } from '../deps';
import { pageOf, requireActor } from '../inputs/request';
import { presentUser, presentUserPage } from '../presenters/users';

/** Handlers of the `users` tag. */
export function usersHandlers(deps: AppDeps & { links: Links }) {
  return {
    createUser: async ({ body, actor, baseUrl }) => {
      const user = await registerUser(deps, actor, {
        email: body.email,
        username: body.username,
        fullName: body.full_name ?? null,
        password: body.password,
      });
      const location = deps.links('getUser', { user_id: user.id }, baseUrl);
      return { status: 201, headers: { Location: location }, body: presentUser(user) };
    },

    getCurrentUser: async ({ actor }) => ({
      status: 200,
      body: presentUser(await getCurrentUser(deps, requireActor(actor))),
    }),

    updateCurrentUser: async ({ body, actor }) => {
      const changes = { email: body.email, username: body.username, fullName: body.full_name };
      return { status: 200, body: presentUser(await updateProfile(deps, requireActor(actor), changes)) };
    },

    changePassword: async ({ body, actor }) => {
      await changePassword(deps, requireActor(actor), body.current_password, body.new_password);
      return { status: 204 };
    },

    deleteCurrentUser: async ({ actor }) => {
      await deleteUser(deps, requireActor(actor).id);
      return { status: 204 };
    },

    listUsers: async ({ query }) => {
      const filters = { q: query.q, isActive: query.is_active, isSuperuser: query.is_superuser };
      const page = await listUsers(deps, filters, query.sort, pageOf(query));
      return { status: 200, body: presentUserPage(page) };
    },

    getUser: async ({ params, actor }) => ({
      status: 200,
      body: presentUser(await getUser(deps, requireActor(actor), params.user_id)),
    }),

    updateUser: async ({ params, body }) => {
      const user = await updateUser(deps, params.user_id, {
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
