import type { Knex } from 'knex';
import { asDate, isRefused, prepared, refusedAs, type DbOrTx, type Refused } from './database';
import { cutPage, likeContains, orderAndPage, type FoundPage, type PageRequest, type SortKey } from './listing';

/** A user row as the domain sees it. */
export type UserRecord = {
  id: number;
  email: string;
  username: string;
  fullName: string | null;
  hashedPassword: string;
  isActive: boolean;
  isSuperuser: boolean;
  failedLoginCount: number;
  lockedUntil: Date | null;
  /** When the password was last changed; null if never since registration. */
  passwordChangedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = [
  'id',
  'email',
  'username',
  'full_name',
  'hashed_password',
  'is_active',
  'is_superuser',
  'failed_login_count',
  'locked_until',
  'password_changed_at',
  'created_at',
  'updated_at',
] as const;

type UserRow = {
  id: number | string;
  email: string;
  username: string;
  full_name: string | null;
  hashed_password: string;
  is_active: boolean;
  is_superuser: boolean;
  failed_login_count: number;
  locked_until: Date | string | null;
  password_changed_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
};

function toRecord(row: UserRow): UserRecord {
  return {
    id: Number(row.id),
    email: row.email,
    username: row.username,
    fullName: row.full_name,
    hashedPassword: row.hashed_password,
    isActive: row.is_active,
    isSuperuser: row.is_superuser,
    failedLoginCount: Number(row.failed_login_count),
    lockedUntil: row.locked_until === null ? null : asDate(row.locked_until),
    passwordChangedAt: row.password_changed_at === null ? null : asDate(row.password_changed_at),
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
  };
}

export type NewUser = {
  email: string;
  username: string;
  fullName: string | null;
  hashedPassword: string;
  isActive?: boolean;
  isSuperuser?: boolean;
};

/** API sort field -> column of the listing query. */
export const USER_SORT_COLUMNS = { created_at: 'created_at', email: 'email', username: 'username' };

/** What the unique indexes on emails and on lower-cased usernames refuse. */
export type Taken = Refused<'email-taken' | 'username-taken'>;
const TAKEN = { users_email_unique: 'email-taken', users_username_lower_unique: 'username-taken' } as const;

/** Inserts a user; `email-taken` or `username-taken` when another user has either. */
export async function insertUser(db: DbOrTx, user: NewUser): Promise<UserRecord | Taken> {
  const rows = await refusedAs(
    db('users')
      .insert({
        email: user.email,
        username: user.username,
        full_name: user.fullName,
        hashed_password: user.hashedPassword,
        is_active: user.isActive ?? true,
        is_superuser: user.isSuperuser ?? false,
      })
      .returning(COLUMNS),
    TAKEN,
  );
  return isRefused(rows) ? rows : toRecord(rows[0] as UserRow);
}

/**
 * Finds a user by id. Inside a transaction `lock` holds the row until it ends: `share` lets other readers lock it too
 * and makes every update of it wait; `update` also makes other lockers wait (FOR NO KEY UPDATE, so rows referencing
 * the user can still be inserted).
 */
export async function findUserById(
  db: DbOrTx,
  id: number,
  options: { lock?: 'share' | 'update' } = {},
): Promise<UserRecord | undefined> {
  const [row] = await selectUserById[options.lock ?? 'none']<UserRow>(db, [id]);
  return row && toRecord(row);
}
// Every authenticated request looks its actor up by id.
const userById = (db: DbOrTx) => db('users').select(COLUMNS).where({ id: 0 }).limit(1, { skipBinding: true });
const selectUserById = {
  none: prepared(userById),
  share: prepared((db) => userById(db).forShare()),
  update: prepared((db) => userById(db).forNoKeyUpdate()),
};

/** Finds a user by email or username, both compared case-insensitively. */
export async function findUserByLogin(db: DbOrTx, login: string): Promise<UserRecord | undefined> {
  const lowered = login.toLowerCase();
  const row = (await db('users')
    .select(COLUMNS)
    .where('email', lowered)
    .orWhereRaw('lower(username) = ?', [lowered])
    .orderBy('id')
    .first()) as UserRow | undefined;
  return row && toRecord(row);
}

/**
 * Records a failed login unless the account is locked at `now`; locks it until `lockUntil` when this failure reaches
 * `maxFailures`. Undefined when it was locked (or is gone): then nothing is counted, so the count stops at the limit.
 */
export async function recordFailedLogin(
  db: DbOrTx,
  id: number,
  now: Date,
  maxFailures: number,
  lockUntil: Date,
): Promise<UserRecord | undefined> {
  // A lock that has run out starts a fresh count, so one more failure does not re-lock at once.
  const count = db.raw(
    'CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1 ELSE failed_login_count + 1 END',
    [now],
  );
  const [row] = (await db('users')
    .where({ id })
    .andWhere(notLockedAt(now))
    .update({
      failed_login_count: count,
      locked_until: db.raw(
        `CASE WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1 ELSE failed_login_count + 1 END) >= ? THEN ?::timestamptz ELSE NULL END`,
        [now, maxFailures, lockUntil],
      ),
    })
    .returning(COLUMNS)) as UserRow[];
  return row && toRecord(row);
}

// No lock in force at `now`: none set, or one that has run out.
const notLockedAt = (now: Date) => (query: Knex.QueryBuilder) =>
  query.whereNull('locked_until').orWhere('locked_until', '<=', now);

/** Clears the failed-login count and any lock after a successful login (the caller holds the row locked). */
export async function clearFailedLogins(db: DbOrTx, id: number): Promise<void> {
  await db('users').where({ id }).update({ failed_login_count: 0, locked_until: null });
}

/** Finds a user by email (stored lower-cased). */
export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRecord | undefined> {
  const row = (await db('users').select(COLUMNS).where('email', email.toLowerCase()).first()) as UserRow | undefined;
  return row && toRecord(row);
}

/** The columns an update may change; absent keys are left as they are. */
export type UserChanges = Partial<{
  email: string;
  username: string;
  fullName: string | null;
  isActive: boolean;
  isSuperuser: boolean;
  hashedPassword: string;
  passwordChangedAt: Date;
  failedLoginCount: number;
  lockedUntil: Date | null;
}>;

const CHANGE_COLUMNS: Record<keyof UserChanges, string> = {
  email: 'email',
  username: 'username',
  fullName: 'full_name',
  isActive: 'is_active',
  isSuperuser: 'is_superuser',
  hashedPassword: 'hashed_password',
  passwordChangedAt: 'password_changed_at',
  failedLoginCount: 'failed_login_count',
  lockedUntil: 'locked_until',
};

/** Updates a user and stamps `updated_at`; undefined when the user does not exist; Taken as for insertUser. */
export async function updateUser(
  db: DbOrTx,
  id: number,
  changes: UserChanges,
  onlyIf: { hashedPassword?: string; notLockedAt?: Date } = {},
): Promise<UserRecord | undefined | Taken> {
  const values: Record<string, unknown> = { updated_at: db.fn.now() };
  for (const [key, column] of Object.entries(CHANGE_COLUMNS)) {
    const value = changes[key as keyof UserChanges];
    if (value !== undefined) values[column] = value;
  }
  const query = db('users').where({ id });
  // A compare-and-set: the update applies only while the stored hash is still the one the caller checked.
  if (onlyIf.hashedPassword !== undefined) query.andWhere({ hashed_password: onlyIf.hashedPassword });
  if (onlyIf.notLockedAt !== undefined) query.andWhere(notLockedAt(onlyIf.notLockedAt));
  const rows = await refusedAs(query.update(values).returning(COLUMNS), TAKEN);
  if (isRefused(rows)) return rows;
  return rows[0] && toRecord(rows[0] as UserRow);
}

/** Deletes a user (their tokens go with them); false when there was none. */
export async function deleteUserById(db: DbOrTx, id: number): Promise<boolean> {
  const deleted = (await db('users').where({ id }).delete().returning(['id'])) as { id: number }[];
  return deleted.length === 1;
}

/** Locks every active superuser's row until the transaction ends and returns their ids. */
export async function lockActiveSuperuserIds(trx: DbOrTx): Promise<number[]> {
  const rows = (await trx('users')
    .select('id')
    .where({ is_superuser: true, is_active: true })
    .orderBy('id')
    .forUpdate()) as { id: number | string }[];
  return rows.map((row) => Number(row.id));
}

/** The filters of the admin user list; absent ones do not filter. */
export type UserFilters = { q?: string; isActive?: boolean; isSuperuser?: boolean };

/** Lists one page of users matching the filters, with the number of all matches. */
export async function listUsers(
  db: DbOrTx,
  filters: UserFilters,
  sort: SortKey[],
  page: PageRequest,
): Promise<FoundPage<UserRecord>> {
  const matching = db('users').modify((query) => {
    if (filters.q !== undefined) {
      const pattern = likeContains(filters.q);
      query.where((w) =>
        w.whereILike('email', pattern).orWhereILike('username', pattern).orWhereILike('full_name', pattern),
      );
    }
    if (filters.isActive !== undefined) query.where('is_active', filters.isActive);
    if (filters.isSuperuser !== undefined) query.where('is_superuser', filters.isSuperuser);
  });
  const [counted] = (await matching.clone().count({ total: '*' })) as { total: number | string }[];
  const rows = (await orderAndPage(matching.clone().select(COLUMNS), sort, page)) as UserRow[];
  const { rows: pageRows, next } = cutPage(rows, sort, page.limit);
  return { items: pageRows.map(toRecord), total: Number(counted?.total ?? 0), next };
}
