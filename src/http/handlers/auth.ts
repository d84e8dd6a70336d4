import { login, logout, refreshTokens, type TokenPair } from '../../domain/auth/sessions';
import { confirmPasswordReset, requestPasswordReset } from '../../domain/auth/password-reset';
import { createMailer } from '../../lib/mailer';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../binding/operations';

const NO_STORE = { 'Cache-Control': 'no-store' };
const RESET_REQUESTED = 'If an active account uses this email, a password reset link has been sent to it.';

const tokenReply = (pair: TokenPair) => ({
  status: 200 as const,
  headers: NO_STORE,
  body: {
    access_token: pair.accessToken,
    token_type: 'bearer' as const,
    expires_in: pair.expiresIn,
    refresh_token: pair.refreshToken,
    refresh_expires_in: pair.refreshExpiresIn,
  },
});

/** Handlers of the `auth` tag. */
export function authHandlers(deps: AppDeps) {
  const resetDeps = { ...deps, mailer: createMailer(deps.config.mail, deps.logger) };
  return {
    login: async ({ body }) => tokenReply(await login(deps, body.username, body.password)),

    refreshToken: async ({ body }) => tokenReply(await refreshTokens(deps, body.refresh_token)),

    logout: async ({ body }) => {
      await logout(deps, body.refresh_token);
      return { status: 204 };
    },

    requestPasswordReset: async ({ body, requestId }) => {
      requestPasswordReset(resetDeps, body.email, requestId);
      return { status: 202, body: { message: RESET_REQUESTED } };
    },

    confirmPasswordReset: async ({ body }) => {
      await confirmPasswordReset(deps, body.token, body.new_password);
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}
