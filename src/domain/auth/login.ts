import { randomUUID } from 'node:crypto';
import type { Db } from '../../data-access/database';
import { insertRefreshToken } from '../../data-access/refresh-tokens-repository';
import {
  clearFailedLogins,
  findUserById,
  findUserByLogin,
  recordFailedLogin,
  type UserRecord,
} from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import { dummyHash, verifyPassword } from '../users/passwords';
import { hashToken, newRefreshToken, signAccessToken } from './tokens';

export type AuthDeps = { db: Db; clock: Clock; config: Pick<Config, 'auth' | 'secretKey'> };

export type TokenPair = { accessToken: string; expiresIn: number; refreshToken: string; refreshExpiresIn: number };

/** Logs a user in: find them, refuse a locked account, check the password (counting failures), then issue tokens. */
export async function login(deps: AuthDeps, username: string, password: string): Promise<TokenPair> {
  const user = await findUserByLogin(deps.db, username);
  if (!user) {
    await verifyPassword(password, await dummyHash(deps.config.auth.bcryptRounds));
    throw invalidCredentials();
  }
  if (!(await verifyPasswordWithLockout(deps, user, password))) throw invalidCredentials();
  // The password was checked on a row read before bcrypt ran. Locked, the row is read again and stays as read until
  // the refresh token is stored: a lock set by failures racing this login is not wiped, a password changed or an
  // account deactivated or deleted meanwhile refuses it, and a change that comes later waits and revokes its token.
  return deps.db.transaction(async (trx) => {
    const current = await findUserById(trx, user.id, { lock: 'update' });
    if (!current || current.hashedPassword !== user.hashedPassword) throw invalidCredentials();
    assertNotLocked(current, deps.clock.now());
    if (!current.isActive) throw new AppError('INACTIVE_USER', 'This account is deactivated.');
    if (current.failedLoginCount > 0 || current.lockedUntil) await clearFailedLogins(trx, user.id);
    return issueTokenPair({ ...deps, db: trx }, user.id, randomUUID());
  });
}

/** Issues an access token and a refresh token of the given family. */
export async function issueTokenPair(deps: AuthDeps, userId: number, familyId: string): Promise<TokenPair> {
  const now = deps.clock.now();
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = deps.config.auth;
  const refreshToken = newRefreshToken();
  await insertRefreshToken(deps.db, {
    userId,
    familyId,
    tokenHash: hashToken(refreshToken),
    expiresAt: new Date(now.getTime() + refreshTokenTtlSeconds * 1000),
  });
  return {
    accessToken: signAccessToken(userId, deps.config.secretKey, now, accessTokenTtlSeconds),
    expiresIn: accessTokenTtlSeconds,
    refreshToken,
    refreshExpiresIn: refreshTokenTtlSeconds,
  };
}

/** Checks a user's password under the lockout rules: a locked account is refused, a failure counts towards the lock. */
export async function verifyPasswordWithLockout(deps: AuthDeps, user: UserRecord, password: string): Promise<boolean> {
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

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Incorrect username or password.');
