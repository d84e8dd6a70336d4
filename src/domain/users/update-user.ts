import type { Db } from '../../data-access/database';
import { revokeUserRefreshTokens } from '../../data-access/refresh-tokens-repository';
import { updateUser as updateUserRow, type UserChanges, type UserRecord } from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { assertNotLastSuperuser } from './last-superuser';
import { assertPasswordPolicy, hashPassword } from './passwords';
import { uniqueViolationToError } from './register-user';

export type UserDeps = { db: Db; clock: Clock; bcryptRounds: number };

/** What a user may change on their own account. */
export type ProfileChanges = { email?: string; username?: string; fullName?: string | null };

/** What a superuser may change on any account. */
export type AdminChanges = ProfileChanges & { isActive?: boolean; isSuperuser?: boolean; password?: string };

/** Changes a user's profile fields; a taken email or username is EMAIL_TAKEN / USERNAME_TAKEN. */
export function updateProfile(deps: UserDeps, userId: number, changes: ProfileChanges): Promise<UserRecord> {
  const { email, username, fullName } = changes;
  return updateUser(deps, userId, { email, username, fullName });
}

/**
 * Applies a superuser's changes in one transaction. Never leaves no active superuser (LAST_SUPERUSER); a new password
 * clears the lockout and, like deactivation, revokes the user's refresh tokens.
 */
export async function updateUser(deps: UserDeps, userId: number, changes: AdminChanges): Promise<UserRecord> {
  const { password, email, ...rest } = changes;
  if (password !== undefined) assertPasswordPolicy(password);
  const hashedPassword = password === undefined ? undefined : await hashPassword(password, deps.bcryptRounds);
  const now = deps.clock.now();
  const row: UserChanges = { ...rest, email: email?.toLowerCase() };
  if (hashedPassword)
    Object.assign(row, { hashedPassword, passwordChangedAt: now, failedLoginCount: 0, lockedUntil: null });
  // Nothing is read before the email or username is written: the unique indexes decide racing claims (409 below).
  try {
    return await deps.db.transaction(async (trx) => {
      if (changes.isActive === false || changes.isSuperuser === false) await assertNotLastSuperuser(trx, userId);
      const updated = await updateUserRow(trx, userId, row);
      if (!updated) throw new AppError('USER_NOT_FOUND', 'The user does not exist.');
      if (hashedPassword || changes.isActive === false) await revokeUserRefreshTokens(trx, userId, now);
      return updated;
    });
  } catch (err) {
    throw uniqueViolationToError(err);
  }
}
