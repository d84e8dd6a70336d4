import { isUniqueViolation, type Db } from '../../data-access/database';
import { insertUser, USER_UNIQUE, type UserRecord } from '../../data-access/users-repository';
import { AppError } from '../../lib/errors';
import { assertPasswordPolicy, hashPassword } from './passwords';

export type Registration = { email: string; username: string; fullName: string | null; password: string };

/** Registers a user: check the password policy, hash it, insert, and let the unique indexes decide races. */
export async function registerUser(
  deps: { db: Db; bcryptRounds: number },
  input: Registration,
  flags: { isSuperuser?: boolean; isActive?: boolean } = {},
): Promise<UserRecord> {
  assertPasswordPolicy(input.password);
  const hashedPassword = await hashPassword(input.password, deps.bcryptRounds);
  try {
    return await insertUser(deps.db, {
      email: input.email.toLowerCase(),
      username: input.username,
      fullName: input.fullName,
      hashedPassword,
      ...flags,
    });
  } catch (err) {
    throw uniqueViolationToError(err);
  }
}

/** Turns a unique-index violation on users into EMAIL_TAKEN or USERNAME_TAKEN; other errors pass through. */
export function uniqueViolationToError(err: unknown): unknown {
  if (isUniqueViolation(err, USER_UNIQUE.email))
    return new AppError('EMAIL_TAKEN', 'This email is already registered.');
  if (isUniqueViolation(err, USER_UNIQUE.username))
    return new AppError('USERNAME_TAKEN', 'This username is already taken.');
  return err;
}
