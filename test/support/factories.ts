import bcrypt from 'bcrypt';
import { insertCategory, type CategoryRecord } from '../../src/data-access/categories-repository';
import { written } from '../../src/data-access/database';
import { findPostById, insertPost, type PostRecord } from '../../src/data-access/posts-repository';
import {
  findProductById,
  insertProduct,
  type ProductFields,
  type ProductRecord,
} from '../../src/data-access/products-repository';
import { insertUser, type UserRecord } from '../../src/data-access/users-repository';
import { signAccessToken } from '../../src/domain/auth/tokens';
import type { AppDeps } from '../../src/http/deps';
import { unique, type TestApp } from './test-app';

/** What the factories need of a test app: its database, its clock and its configuration (for signing tokens). */
export type RowTarget = Pick<TestApp, 'db' | 'clock'> & { deps: Pick<AppDeps, 'config'> };

export const VALID_PASSWORD = 'Correct-Horse-9';
const cheapHash = bcrypt.hash(VALID_PASSWORD, 4);

export type TestUser = UserRecord & { password: string; token: string; auth: { Authorization: string } };

/** Inserts a user with unique email and username (password VALID_PASSWORD) and signs an access token for it. */
export async function buildUser(
  t: RowTarget,
  overrides: Partial<{
    email: string;
    username: string;
    fullName: string | null;
    isActive: boolean;
    isSuperuser: boolean;
  }> = {},
): Promise<TestUser> {
  const name = unique('user');
  const record = written(
    await insertUser(t.db, {
      email: overrides.email ?? `${name}@example.com`,
      username: overrides.username ?? name,
      fullName: overrides.fullName ?? 'Test User',
      hashedPassword: await cheapHash,
      isActive: overrides.isActive ?? true,
      isSuperuser: overrides.isSuperuser ?? false,
    }),
  );
  const token = tokenFor(t, record.id);
  return { ...record, password: VALID_PASSWORD, token, auth: { Authorization: `Bearer ${token}` } };
}

/** Signs a valid access token for a user id with the app's own key and clock. */
export function tokenFor(t: RowTarget, userId: number): string {
  return signAccessToken(userId, t.deps.config.secretKey, t.clock.now(), t.deps.config.auth.accessTokenTtlSeconds);
}

/** Inserts a category with a unique name and slug. */
export async function buildCategory(
  t: TestApp,
  overrides: Partial<{ name: string; slug: string; description: string | null }> = {},
): Promise<CategoryRecord> {
  const slug = overrides.slug ?? unique('cat');
  return written(
    await insertCategory(t.db, {
      name: overrides.name ?? `Category ${slug}`,
      slug,
      description: overrides.description ?? null,
    }),
  );
}

/** Inserts an active product (1000 cents EUR, stock 10, no category unless given) with a unique name. */
export async function buildProduct(
  t: Pick<TestApp, 'db'>,
  overrides: Partial<ProductFields> = {},
): Promise<ProductRecord> {
  const id = written(
    await insertProduct(t.db, {
      name: overrides.name ?? unique('Product '),
      description: overrides.description ?? null,
      priceCents: overrides.priceCents ?? 1000,
      currency: overrides.currency ?? 'EUR',
      stock: overrides.stock ?? 10,
      categoryId: overrides.categoryId ?? null,
      isActive: overrides.isActive ?? true,
    }),
  );
  const product = await findProductById(t.db, id);
  if (!product) throw new Error(`product ${id} was not stored`);
  return product;
}

/** Inserts a post by the given author, published unless told otherwise. */
export async function buildPost(
  t: TestApp,
  author: { id: number },
  overrides: Partial<{ title: string; body: string; published: boolean }> = {},
): Promise<PostRecord> {
  const id = await insertPost(t.db, author.id, {
    title: overrides.title ?? unique('Post '),
    body: overrides.body ?? 'A post body.',
    published: overrides.published ?? true,
  });
  const post = await findPostById(t.db, id);
  if (!post) throw new Error(`post ${id} was not stored`);
  return post;
}
