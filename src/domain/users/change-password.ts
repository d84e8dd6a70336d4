import { revokeUserRefreshTokens } from '../../data-access/refresh-tokens-repository';
import { findUserById, updateUser } from '../../data-access/users-repository';
import { AppError } from '../../lib/errors';
import { assertNotLocked, verifyPasswordWithLockout, type AuthDeps } from '../auth/login';
import { assertPasswordPolicy, hashPassword } from './passwords';

/**
 * Changes a user's own password. A wrong current password is a validation error on `current_password` that counts
 * as a failed login (so guessing it ends in the lockout); success revokes every refresh token of the user.
 */
export async function changePassword(
  deps: AuthDeps,
  userId: number,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  assertPasswordPolicy(newPassword, 'new_password');
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError('USER_NOT_FOUND', 'The user does not exist.');
  if (!(await verifyPasswordWithLockout(deps, user, currentPassword))) throw incorrectCurrentPassword();
  const hashedPassword = await hashPassword(newPassword, deps.config.auth.bcryptRounds);
  const now = deps.clock.now();
  // Only over the hash just verified: of concurrent changes with the same current password exactly one applies, and
  // the others find the password already changed, as if they had sent a wrong one. Only while no lock is in force
  // either: failures racing this change may have locked the account since it was read, and that lock stands.
  const changed = await deps.db.transaction(async (trx) => {
    const updated = await updateUser(
      trx,
      userId,
      { hashedPassword, passwordChangedAt: now, failedLoginCount: 0, lockedUntil: null },
      { hashedPassword: user.hashedPassword, notLockedAt: now },
    );
    if (updated) await revokeUserRefreshTokens(trx, userId, now);
    return updated !== undefined;
  });
  if (changed) return;
  const current = await findUserById(deps.db, userId);
  if (current) assertNotLocked(current, now);
  throw incorrectCurrentPassword();
}

const incorrectCurrentPassword = () =>
  new AppError('VALIDATION_ERROR', 'The current password is incorrect.', [
    { location: 'body', path: '/current_password', message: 'is incorrect' },
  ]);
