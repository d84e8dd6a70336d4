import { login } from '../../domain/auth/login';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../operations';

const NO_STORE = { 'Cache-Control': 'no-store' };

/** Handlers of the `auth` tag. */
export function authHandlers(deps: AppDeps) {
  return {
    login: async ({ body }) => {
      const pair = await login(deps, body.username, body.password);
      return {
        status: 200,
        headers: NO_STORE,
        body: {
          access_token: pair.accessToken,
          token_type: 'bearer',
          expires_in: pair.expiresIn,
          refresh_token: pair.refreshToken,
          refresh_expires_in: pair.refreshExpiresIn,
        },
      };
    },
  } satisfies PartialHandlers;
}
