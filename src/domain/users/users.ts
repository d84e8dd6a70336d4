import type { Db } from '../../data-access/database';
import { isRefused } from '../../data-access/database';
import { revokeUserRefreshTokens } from '../../data-access/refresh-tokens-repository';
import {
  USER_SORT_COLUMNS,
  deleteUserById,
  findUserById,
  insertUser,
  listUsers as listUserRows,
  updateUser as updateUserRow,
  type Taken,
  type UserChanges,
  type UserFilters,
  type UserRecord,
} from '../../data-access/users-repository';
import type { Clock } from '../../lib/clock';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { assertNotLocked, verifyPasswordWithLockout } from '../auth/lockout';
import { paging, parseSort, type CursorDeps, type Page, type PageQuery } from '../listing';
import { assertNotLastSuperuser } from './last-superuser';
import { assertPasswordPolicy, hashPassword } from './passwords';

/** What the users' use cases need. */
export type UserDeps = { db: Db; clock: Clock; config: Pick<Config, 'auth'> };

/** A new account's fields. */
export type Registration = { email: string; username: string; fullName: string | null; password: string };

/** What a user may change on their own account. */
export type ProfileChanges = { email?: string; username?: string; fullName?: string | null };

/** What a superuser may change on any account. */
export type AdminChanges = ProfileChanges & { isActive?: boolean; isSuperuser?: boolean; password?: string };

/**
 * Registers a user. While registration is closed (OPEN_REGISTRATION=false) only a superuser may create accounts;
 * anyone may while it is open.
 */
export async function registerUser(deps: UserDeps, actor: Actor | undefined, input: Registration): Promise<UserRecord> {
  if (!deps.config.auth.openRegistration && !actor?.isSuperuser) {
    throw new AppError('FORBIDDEN', 'Registration is closed; a superuser must create accounts.');
  }
  return createAccount(deps, input);
}

/** Creates an account without a registration policy (seeds): check the password policy, hash it, insert. */
export async function createAccount(
  deps: Pick<UserDeps, 'db' | 'config'>,
  input: Registration,
  flags: { isSuperuser?: boolean; isActive?: boolean } = {},
): Promise<UserRecord> {
  assertPasswordPolicy(input.password, 'password');
  const hashedPassword = await hashPassword(input.password, deps.config.auth.bcryptRounds);
  // Nothing is read first: the unique indexes decide racing registrations.
  const user = await insertUser(deps.db, {
    email: input.email.toLowerCase(),
    username: input.username,
    fullName: input.fullName,
    hashedPassword,
    ...flags,
  });
  return isRefused(user) ? taken(user) : user;
}

/** The actor's own account: the row authentication loaded for this request when there is one, no second query. */
export async function getCurrentUser(deps: Pick<UserDeps, 'db'>, actor: Actor): Promise<UserRecord> {
  return actor.user ?? (await findUserById(deps.db, actor.id)) ?? userNotFound();
}

/**
 * A user as the actor may see them: a superuser sees anyone, a user only themselves. Another user's id is
 * USER_NOT_FOUND for a non-superuser, the same answer as a missing one, so ids cannot be probed.
 */
export async function getUser(deps: Pick<UserDeps, 'db'>, actor: Actor, userId: number): Promise<UserRecord> {
  if (!actor.isSuperuser && actor.id !== userId) userNotFound();
  return (await findUserById(deps.db, userId)) ?? userNotFound();
}

/** Lists users for a superuser: filtered, sorted by the sortable fields and paged. */
export async function listUsers(
  deps: Pick<UserDeps, 'db'> & CursorDeps,
  filters: UserFilters,
  sortBy: string | undefined,
  query: PageQuery,
): Promise<Page<UserRecord>> {
  const sort = parseSort(sortBy, USER_SORT_COLUMNS);
  const page = paging(deps.config.cursorKeys, { name: 'users', sort, filter: filters }, query);
  return page.toPage(await listUserRows(deps.db, filters, sort, page.request));
}

/** Changes the actor's own profile fields; a taken email or username is EMAIL_TAKEN / USERNAME_TAKEN. */
export function updateProfile(deps: UserDeps, actor: Actor, changes: ProfileChanges): Promise<UserRecord> {
  const { email, username, fullName } = changes;
  return updateUser(deps, actor.id, { email, username, fullName });
}

/**
 * Applies a superuser's changes in one transaction. Never leaves no active superuser (LAST_SUPERUSER); a new password
 * clears the lockout and, like deactivation, revokes the user's refresh tokens.
 */
export async function updateUser(deps: UserDeps, userId: number, changes: AdminChanges): Promise<UserRecord> {
  const { password, email, ...rest } = changes;
  if (password !== undefined) assertPasswordPolicy(password, 'password');
  const hashedPassword =
    password === undefined ? undefined : await hashPassword(password, deps.config.auth.bcryptRounds);
  const now = deps.clock.now();
  const row: UserChanges = { ...rest, email: email?.toLowerCase() };
  if (hashedPassword)
    Object.assign(row, { hashedPassword, passwordChangedAt: now, failedLoginCount: 0, lockedUntil: null });
  // Nothing is read before the email or username is written: the unique indexes decide racing claims.
  return deps.db.transaction(async (trx) => {
    if (changes.isActive === false || changes.isSuperuser === false) await assertNotLastSuperuser(trx, userId);
    const updated = await updateUserRow(trx, userId, row);
    if (isRefused(updated)) taken(updated);
    if (!updated) userNotFound();
    if (hashedPassword || changes.isActive === false) await revokeUserRefreshTokens(trx, userId, now);
    return updated;
  });
}

/**
 * Changes the actor's own password. A wrong current password is a validation error on `currentPassword` that counts
 * as a failed login (so guessing it ends in the lockout); success revokes every refresh token of the user.
 */
export async function changePassword(
  deps: UserDeps,
  actor: Actor,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  assertPasswordPolicy(newPassword, 'newPassword');
  const user = (await findUserById(deps.db, actor.id)) ?? userNotFound();
  if (!(await verifyPasswordWithLockout(deps, user, currentPassword))) incorrectCurrentPassword();
  const hashedPassword = await hashPassword(newPassword, deps.config.auth.bcryptRounds);
  const now = deps.clock.now();
  // Only over the hash just verified: of concurrent changes with the same current password exactly one applies, and
  // the others find the password already changed, as if they had sent a wrong one. Only while no lock is in force
  // either: failures racing this change may have locked the account since it was read, and that lock stands.
  const changed = await deps.db.transaction(async (trx) => {
    const updated = await updateUserRow(
      trx,
      user.id,
      { hashedPassword, passwordChangedAt: now, failedLoginCount: 0, lockedUntil: null },
      { hashedPassword: user.hashedPassword, notLockedAt: now },
    );
    if (updated === undefined || isRefused(updated)) return false;
    await revokeUserRefreshTokens(trx, user.id, now);
    return true;
  });
  if (changed) return;
  const current = await findUserById(deps.db, user.id);
  if (current) assertNotLocked(current, now);
  incorrectCurrentPassword();
}

/** Deletes a user with everything they own, unless they are the last active superuser. */
export async function deleteUser(deps: Pick<UserDeps, 'db'>, userId: number): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await assertNotLastSuperuser(trx, userId);
    if (!(await deleteUserById(trx, userId))) userNotFound();
  });
}

function taken(refusal: Taken): never {
  if (refusal.kind === 'email-taken') throw new AppError('EMAIL_TAKEN', 'This email is already registered.');
  throw new AppError('USERNAME_TAKEN', 'This username is already taken.');
}

function userNotFound(): never {
  throw new AppError('USER_NOT_FOUND', 'The user does not exist.');
}

function incorrectCurrentPassword(): never {
  throw new AppError('VALIDATION_ERROR', 'The current password is incorrect.', [
    { field: ['currentPassword'], message: 'is incorrect' },
  ]);
}
