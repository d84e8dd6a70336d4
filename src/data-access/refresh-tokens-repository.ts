import type { DbOrTx } from './database';
import { asDate } from './database';

/** A stored refresh token; only its SHA-256 hash is kept. */
export type RefreshTokenRecord = {
  id: number;
  userId: number;
  familyId: string;
  expiresAt: Date;
  spentAt: Date | null;
  revokedAt: Date | null;
};

const COLUMNS = ['id', 'user_id', 'family_id', 'expires_at', 'spent_at', 'revoked_at'] as const;

type Row = {
  id: number | string;
  user_id: number | string;
  family_id: string;
  expires_at: Date | string;
  spent_at: Date | string | null;
  revoked_at: Date | string | null;
};

const toRecord = (row: Row): RefreshTokenRecord => ({
  id: Number(row.id),
  userId: Number(row.user_id),
  familyId: row.family_id,
  expiresAt: asDate(row.expires_at),
  spentAt: row.spent_at === null ? null : asDate(row.spent_at),
  revokedAt: row.revoked_at === null ? null : asDate(row.revoked_at),
});

/** Stores a new refresh token of a family. */
export async function insertRefreshToken(
  db: DbOrTx,
  token: { userId: number; familyId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await db('refresh_tokens').insert({
    user_id: token.userId,
    family_id: token.familyId,
    token_hash: token.tokenHash,
    expires_at: token.expiresAt,
  });
}

/** Finds a refresh token by its hash. */
export async function findRefreshTokenByHash(db: DbOrTx, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const row = (await db('refresh_tokens').select(COLUMNS).where({ token_hash: tokenHash }).first()) as Row | undefined;
  return row && toRecord(row);
}

/** Marks a token spent if it is still unspent and unrevoked; false when another request spent or revoked it first. */
export async function spendRefreshToken(db: DbOrTx, id: number, now: Date): Promise<boolean> {
  const updated = await db('refresh_tokens')
    .where({ id })
    .whereNull('spent_at')
    .whereNull('revoked_at')
    .update({ spent_at: now });
  return updated === 1;
}

/** Locks every token row of a family until the transaction ends, so no rotation of it can commit meanwhile. */
export async function lockRefreshFamily(trx: DbOrTx, familyId: string): Promise<void> {
  await trx('refresh_tokens').select('id').where({ family_id: familyId }).forUpdate();
}

/** Revokes every token of a family. */
export async function revokeRefreshFamily(db: DbOrTx, familyId: string, now: Date): Promise<void> {
  await db('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: now });
}

/** Revokes every token of a user. */
export async function revokeUserRefreshTokens(db: DbOrTx, userId: number, now: Date): Promise<void> {
  await db('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
}
