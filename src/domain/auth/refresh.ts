import {
  findRefreshTokenByHash,
  lockRefreshFamily,
  revokeRefreshFamily,
  spendRefreshToken,
} from '../../data-access/refresh-tokens-repository';
import { findUserById } from '../../data-access/users-repository';
import { AppError } from '../../lib/errors';
import { issueTokenPair, type AuthDeps, type TokenPair } from './login';
import { hashToken } from './tokens';

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
