import { randomBytes } from 'node:crypto';
import type { Db } from '../../data-access/database';
import {
  consumeResetToken,
  insertResetToken,
  invalidateUserResetTokens,
  isResetTokenUsable,
} from '../../data-access/password-reset-tokens-repository';
import { revokeUserRefreshTokens } from '../../data-access/refresh-tokens-repository';
import { findUserByEmail, findUserById, updateUser } from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Mailer } from '../../lib/mailer';
import { assertPasswordPolicy, hashPassword } from '../users/passwords';
import { hashToken } from './tokens';

export type ResetDeps = { db: Db; clock: Clock; mailer: Mailer; config: Pick<Config, 'auth' | 'mail'> };

/**
 * Asks for a reset link for this email. The lookup and the email run after the caller has its answer, so neither
 * that answer nor its timing tells whether an account uses the email; a failure is logged, never reported back.
 */
export function requestPasswordReset(deps: ResetDeps & { logger: Logger }, email: string, requestId: string): void {
  setImmediate(() => {
    sendResetLink(deps, email).catch((err: unknown) => {
      const error = err instanceof Error ? { name: err.name, message: err.message } : String(err);
      deps.logger.error('password reset request failed', { request_id: requestId, error });
    });
  });
}

// Emails a single-use reset link to the active account with this email, if any; does nothing otherwise.
async function sendResetLink(deps: ResetDeps, email: string): Promise<void> {
  const user = await findUserByEmail(deps.db, email);
  if (!user || !user.isActive) return;
  const now = deps.clock.now();
  const token = randomBytes(32).toString('base64url');
  const issued = await deps.db.transaction(async (trx) => {
    // Requests for one user take turns here, so each one's invalidation sees the token of the one before it and only
    // the newest link works; unlocked, two at once would each keep their own token.
    const current = await findUserById(trx, user.id, { lock: 'update' });
    if (!current?.isActive) return false;
    await invalidateUserResetTokens(trx, user.id, now);
    await insertResetToken(trx, {
      userId: user.id,
      tokenHash: hashToken(token),
      expiresAt: new Date(now.getTime() + deps.config.auth.resetTokenTtlSeconds * 1000),
    });
    return true;
  });
  if (!issued) return;
  const link = deps.config.mail.resetUrlTemplate.replace('{token}', token);
  const minutes = Math.round(deps.config.auth.resetTokenTtlSeconds / 60);
  await deps.mailer.send({
    to: user.email,
    subject: 'Reset your password',
    text: `Someone asked to reset the password of your account ${user.username}.\n\nTo choose a new password, open ${link}\n\nThe link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this email.\n`,
  });
}

/** Spends a reset token and sets the new password: clears the lockout and revokes the user's refresh tokens. */
export async function confirmPasswordReset(
  deps: Pick<ResetDeps, 'db' | 'clock' | 'config'>,
  token: string,
  newPassword: string,
): Promise<void> {
  assertPasswordPolicy(newPassword, 'newPassword');
  const now = deps.clock.now();
  const tokenHash = hashToken(token);
  // Checked before hashing so a bad token costs no bcrypt work; the conditional update below settles races.
  if (!(await isResetTokenUsable(deps.db, tokenHash, now))) throw invalidResetToken();
  const hashedPassword = await hashPassword(newPassword, deps.config.auth.bcryptRounds);
  await deps.db.transaction(async (trx) => {
    const userId = await consumeResetToken(trx, tokenHash, now);
    if (userId === undefined) throw invalidResetToken();
    await updateUser(trx, userId, {
      hashedPassword,
      passwordChangedAt: now,
      failedLoginCount: 0,
      lockedUntil: null,
    });
    await invalidateUserResetTokens(trx, userId, now);
    await revokeUserRefreshTokens(trx, userId, now);
  });
}

const invalidResetToken = () =>
  new AppError('INVALID_RESET_TOKEN', 'The reset token is invalid, used or expired; ask for a new one.');
