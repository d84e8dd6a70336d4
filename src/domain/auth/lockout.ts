import type { Db } from '../../data-access/database';
import { findUserById, recordFailedLogin, type UserRecord } from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import { verifyPassword } from '../users/passwords';

type Deps = { db: Db; clock: Clock; config: Pick<Config, 'auth'> };

/** Checks a user's password under the lockout rules: a locked account is refused, a failure counts towards the lock. */
export async function verifyPasswordWithLockout(deps: Deps, user: UserRecord, password: string): Promise<boolean> {
  const now = deps.clock.now();
  assertNotLocked(user, now);
  if (await verifyPassword(password, user.hashedPassword)) return true;
  const lockUntil = new Date(now.getTime() + deps.config.auth.lockoutSeconds * 1000);
  const counted = await recordFailedLogin(deps.db, user.id, now, deps.config.auth.maxFailedLogins, lockUntil);
  // Not counted: failures racing this one locked the account after it was read, so it is refused as locked.
  const current = counted ?? (await findUserById(deps.db, user.id));
  if (current) assertNotLocked(current, now);
  return false;
}

/** Throws ACCOUNT_LOCKED, with the seconds left, while the user's lock is in force at `now`. */
export function assertNotLocked(user: UserRecord, now: Date): void {
  if (user.lockedUntil && user.lockedUntil > now) {
    const retryAfterSeconds = Math.ceil((user.lockedUntil.getTime() - now.getTime()) / 1000);
    throw new AppError('ACCOUNT_LOCKED', 'Too many failed logins; try again later.', undefined, retryAfterSeconds);
  }
}
