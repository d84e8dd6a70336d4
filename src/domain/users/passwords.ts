import { availableParallelism } from 'node:os';
import bcrypt from 'bcrypt';
import pLimit from 'p-limit';
import { AppError } from '../../lib/errors';
import { passwordViolations } from './password-policy';

/**
 * bcrypt runs on libuv's thread pool, off the event loop; left alone a burst of logins would still take every core
 * from it. One core is kept free for the event loop, so the API stays responsive while passwords are checked.
 */
export const BCRYPT_CONCURRENCY = Math.max(1, availableParallelism() - 1);
const bcryptSlot = pLimit(BCRYPT_CONCURRENCY);

/** Hashes a password that passed the policy, with bcrypt's async API (off the event loop). */
export async function hashPassword(password: string, rounds: number): Promise<string> {
  return bcryptSlot(() => bcrypt.hash(password, rounds));
}

/** Throws VALIDATION_ERROR naming each broken rule, so nothing is ever silently truncated by bcrypt. */
export function assertPasswordPolicy(password: string, field: string): void {
  const details = passwordViolations(password, field);
  if (details.length) throw new AppError('VALIDATION_ERROR', 'The password does not meet the policy.', details);
}

/** Compares a password with a hash; a password over bcrypt's 72 bytes never matches. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (Buffer.byteLength(password, 'utf8') > 72) {
    await bcryptSlot(() => bcrypt.compare('', hash));
    return false;
  }
  return bcryptSlot(() => bcrypt.compare(password, hash));
}

const dummyHashes = new Map<number, Promise<string>>();

/** A hash at the configured cost to compare against when the user does not exist, so both paths cost the same. */
export function dummyHash(rounds: number): Promise<string> {
  let hash = dummyHashes.get(rounds);
  if (!hash) {
    hash = hashPassword('dummy-password-for-timing', rounds);
    dummyHashes.set(rounds, hash);
  }
  return hash;
}
