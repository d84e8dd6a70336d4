import type { DbOrTx } from './database';

/** A stored Idempotency-Key of a user: the fingerprint of its request and the order it created. */
export type IdempotencyKeyRecord = { requestHash: string; orderId: number | null };

/**
 * Claims a key for a request: inserts it, or takes over an expired claim. False when a live claim exists.
 * A concurrent claim of the same key makes this wait until the other transaction ends (the unique index).
 */
export async function claimIdempotencyKey(
  db: DbOrTx,
  claim: { userId: number; key: string; requestHash: string; now: Date; expiresAt: Date },
): Promise<boolean> {
  const rows = await db('idempotency_keys')
    .insert({
      user_id: claim.userId,
      key: claim.key,
      request_hash: claim.requestHash,
      order_id: null,
      created_at: claim.now,
      expires_at: claim.expiresAt,
    })
    .onConflict(['user_id', 'key'])
    .merge(['request_hash', 'order_id', 'created_at', 'expires_at'])
    .where('idempotency_keys.expires_at', '<=', claim.now)
    .returning('id');
  return rows.length === 1;
}

/** Finds a user's key. */
export async function findIdempotencyKey(
  db: DbOrTx,
  userId: number,
  key: string,
): Promise<IdempotencyKeyRecord | undefined> {
  const row = (await db('idempotency_keys')
    .select(['request_hash', 'order_id'])
    .where({ user_id: userId, key })
    .first()) as { request_hash: string; order_id: number | null } | undefined;
  return (
    row && {
      requestHash: row.request_hash,
      orderId: row.order_id === null ? null : Number(row.order_id),
    }
  );
}

/** Records the order a claimed key created. */
export async function attachOrderToKey(db: DbOrTx, userId: number, key: string, orderId: number): Promise<void> {
  await db('idempotency_keys').where({ user_id: userId, key }).update({ order_id: orderId });
}
