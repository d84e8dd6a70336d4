import type { DbOrTx } from './database';

/** Stores a new reset token; only its SHA-256 hash is kept. */
export async function insertResetToken(
  db: DbOrTx,
  token: { userId: number; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await db('password_reset_tokens').insert({
    user_id: token.userId,
    token_hash: token.tokenHash,
    expires_at: token.expiresAt,
  });
}

/** True when a token with this hash exists, is unused and has not expired at `now`. */
export async function isResetTokenUsable(db: DbOrTx, tokenHash: string, now: Date): Promise<boolean> {
  const row = (await db('password_reset_tokens')
    .select('id')
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', now)
    .first()) as { id: number } | undefined;
  return row !== undefined;
}

/** Marks a usable token used and returns its user id; undefined when it is unknown, used or expired. */
export async function consumeResetToken(db: DbOrTx, tokenHash: string, now: Date): Promise<number | undefined> {
  const [row] = (await db('password_reset_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', now)
    .update({ used_at: now })
    .returning(['user_id'])) as { user_id: number | string }[];
  return row === undefined ? undefined : Number(row.user_id);
}

/** Marks every unused token of a user used, so only the newest link (or none) works. */
export async function invalidateUserResetTokens(db: DbOrTx, userId: number, now: Date): Promise<void> {
  await db('password_reset_tokens').where({ user_id: userId }).whereNull('used_at').update({ used_at: now });
}
