import bcrypt from 'bcrypt';
import { insertUser, type UserRecord } from '../../src/data-access/users-repository';
import { signAccessToken } from '../../src/domain/auth/tokens';
import { unique, type TestApp } from './test-app';

export const VALID_PASSWORD = 'Correct-Horse-9';
const cheapHash = bcrypt.hash(VALID_PASSWORD, 4);

export type TestUser = UserRecord & { password: string; token: string; auth: { Authorization: string } };

/** Inserts a user with unique email and username (password VALID_PASSWORD) and signs an access token for it. */
export async function buildUser(
  t: TestApp,
  overrides: Partial<{ email: string; username: string; fullName: string | null; isActive: boolean; isSuperuser: boolean }> = {},
): Promise<TestUser> {
  const name = unique('user');
  const record = await insertUser(t.db, {
    email: overrides.email ?? `${name}@example.com`,
    username: overrides.username ?? name,
    fullName: overrides.fullName ?? 'Test User',
    hashedPassword: await cheapHash,
    isActive: overrides.isActive ?? true,
    isSuperuser: overrides.isSuperuser ?? false,
  });
  const token = tokenFor(t, record.id);
  return { ...record, password: VALID_PASSWORD, token, auth: { Authorization: `Bearer ${token}` } };
}

/** Signs a valid access token for a user id with the app's own key and clock. */
export function tokenFor(t: TestApp, userId: number): string {
  return signAccessToken(userId, t.deps.config.secretKey, t.clock.now(), t.deps.config.auth.accessTokenTtlSeconds);
}
