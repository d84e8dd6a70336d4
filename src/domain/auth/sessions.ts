import { randomUUID } from 'node:crypto';
import type { Db } from '../../data-access/database';
import {
  findRefreshTokenByHash,
  insertRefreshToken,
  lockRefreshFamily,
  revokeRefreshFamily,
  spendRefreshToken,
} from '../../data-access/refresh-tokens-repository';
import { clearFailedLogins, findUserById, findUserByLogin } from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { dummyHash, verifyPassword } from '../users/passwords';
import { assertNotLocked, verifyPasswordWithLockout } from './lockout';
import { ACCESS_TOKEN_TYPE, hashToken, newRefreshToken, signAccessToken } from './tokens';

export type AuthDeps = { db: Db; clock: Clock; config: Pick<Config, 'auth' | 'secretKey'> };

export type TokenPair = { accessToken: string; expiresIn: number; refreshToken: string; refreshExpiresIn: number };

/** The claims of an access token whose signature and algorithm were verified. */
export type AccessClaims = { sub?: unknown; type?: unknown; exp?: unknown; iat?: unknown };

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
async function issueTokenPair(deps: AuthDeps, userId: number, familyId: string): Promise<TokenPair> {
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

/** Rotates a refresh token: spends it and issues a new pair of its family; a spent token revokes the whole family. */
export async function refreshTokens(deps: AuthDeps, refreshToken: string): Promise<TokenPair> {
  const now = deps.clock.now();
  const stored = await findRefreshTokenByHash(deps.db, hashToken(refreshToken));
  if (!stored || stored.revokedAt || stored.expiresAt <= now) throw invalidRefreshToken();
  if (stored.spentAt) {
    await revokeFamily(deps, stored.familyId);
    throw invalidRefreshToken();
  }
  const pair = await deps.db.transaction(async (trx) => {
    // Share-locked until the new token is stored: a password change, deactivation or delete of the user has either
    // committed (its revocation makes the spend below fail, or the row is gone) or waits, then revokes the new token.
    const user = await findUserById(trx, stored.userId, { lock: 'share' });
    if (!user) throw invalidRefreshToken();
    if (!user.isActive) throw new AppError('INACTIVE_USER', 'This account is deactivated.');
    // The conditional spend decides a race between two requests with one token: the loser counts as a reuse.
    return (await spendRefreshToken(trx, stored.id, now))
      ? issueTokenPair({ ...deps, db: trx }, user.id, stored.familyId)
      : null;
  });
  if (!pair) {
    await revokeFamily(deps, stored.familyId);
    throw invalidRefreshToken();
  }
  return pair;
}

/** Revokes the family of a refresh token; unknown tokens are ignored, so logging out twice is harmless. */
export async function logout(deps: Pick<AuthDeps, 'db' | 'clock'>, refreshToken: string): Promise<void> {
  const stored = await findRefreshTokenByHash(deps.db, hashToken(refreshToken));
  if (stored) await revokeFamily(deps, stored.familyId);
}

/**
 * Revokes a whole family, including a token that a concurrent rotation is issuing. The lock waits for a rotation in
 * flight to commit (its new token is then seen by the revoking update, which reads after the lock) or makes a
 * rotation that comes later find its token revoked, so it issues nothing.
 */
async function revokeFamily(deps: Pick<AuthDeps, 'db' | 'clock'>, familyId: string): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await lockRefreshFamily(trx, familyId);
    await revokeRefreshFamily(trx, familyId, deps.clock.now());
  });
}

const invalidRefreshToken = () =>
  new AppError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or already used.');

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Incorrect username or password.');

/**
 * Authenticates the holder of a verified access token: checks its claims and expiry, then loads its user on every
 * request, so a deleted or deactivated user, or a password changed since the token was issued, ends it at once.
 */
export async function authenticate(deps: Pick<AuthDeps, 'db' | 'clock'>, claims: AccessClaims): Promise<Actor> {
  if (claims.type !== ACCESS_TOKEN_TYPE || typeof claims.sub !== 'string' || !/^\d{1,10}$/.test(claims.sub)) {
    throw new AppError('INVALID_TOKEN', 'The access token is invalid.');
  }
  if (typeof claims.exp !== 'number') throw new AppError('INVALID_TOKEN', 'The access token has no expiry.');
  if (claims.exp * 1000 <= deps.clock.now().getTime())
    throw new AppError('TOKEN_EXPIRED', 'The access token has expired.');
  const user = await findUserById(deps.db, Number(claims.sub));
  if (!user) throw new AppError('INVALID_TOKEN', 'The user of this token no longer exists.');
  if (!user.isActive) throw new AppError('INACTIVE_USER', 'This account is deactivated.');
  // `iat` has whole seconds: a token from the same second as the change is still accepted.
  if (
    user.passwordChangedAt &&
    !(typeof claims.iat === 'number' && claims.iat >= Math.floor(user.passwordChangedAt.getTime() / 1000))
  ) {
    throw new AppError('INVALID_TOKEN', 'The password was changed after this token was issued; log in again.');
  }
  return { id: user.id, isSuperuser: user.isSuperuser, user };
}
