import type { Knex } from 'knex';
import { asDate, lockRow, type DbOrTx } from './database';
import { cutPage, likeContains, orderAndPage, type FoundPage, type PageRequest, type SortKey } from './listing';

/** A post with its author's public profile, as the domain sees it. */
export type PostRecord = {
  id: number;
  title: string;
  body: string;
  published: boolean;
  author: { id: number; username: string; fullName: string | null };
  createdAt: Date;
  updatedAt: Date;
};

/** The writable fields of a post. */
export type PostFields = { title: string; body: string; published: boolean };

/** The filters of a post listing; each one given narrows the result. */
export type PostFilter = { published: boolean; authorId?: number; q?: string };

/** API sort field -> column of the listing query. */
export const POST_SORT_COLUMNS = { created_at: 'p.created_at', updated_at: 'p.updated_at', title: 'p.title' };

const COLUMNS = [
  'p.id',
  'p.title',
  'p.body',
  'p.published',
  'p.author_id',
  'p.created_at',
  'p.updated_at',
  'u.username as author_username',
  'u.full_name as author_full_name',
] as const;

type Row = {
  id: number;
  title: string;
  body: string;
  published: boolean;
  author_id: number;
  created_at: Date | string;
  updated_at: Date | string;
  author_username: string;
  author_full_name: string | null;
};

const toRecord = (row: Row): PostRecord => ({
  id: Number(row.id),
  title: row.title,
  body: row.body,
  published: row.published,
  author: { id: Number(row.author_id), username: row.author_username, fullName: row.author_full_name },
  createdAt: asDate(row.created_at),
  updatedAt: asDate(row.updated_at),
});

// One JOIN nests the author of every row; no query per post.
const selectPosts = (db: DbOrTx) => db('posts as p').join('users as u', 'u.id', 'p.author_id').select(COLUMNS);

function applyFilter(query: Knex.QueryBuilder, filter: PostFilter): Knex.QueryBuilder {
  query.where('p.published', filter.published);
  if (filter.authorId !== undefined) query.where('p.author_id', filter.authorId);
  if (filter.q !== undefined) {
    const pattern = likeContains(filter.q);
    query.where((where) => where.whereILike('p.title', pattern).orWhereILike('p.body', pattern));
  }
  return query;
}

/** Inserts a post and returns its id. */
export async function insertPost(db: DbOrTx, authorId: number, fields: PostFields): Promise<number> {
  const [row] = await db('posts')
    .insert({ author_id: authorId, ...fields })
    .returning('id');
  return Number((row as { id: number }).id);
}

/** Finds a post with its author. */
export async function findPostById(db: DbOrTx, id: number): Promise<PostRecord | undefined> {
  const row = (await selectPosts(db).where('p.id', id).first()) as Row | undefined;
  return row && toRecord(row);
}

/** Locks a post's row until the transaction ends (see lockRow); false when there is none. */
export const lockPost = (db: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<boolean> =>
  lockRow(db, 'posts', id, purpose);

/** Updates the given fields and bumps `updated_at`. */
export async function updatePost(db: DbOrTx, id: number, fields: Partial<PostFields>): Promise<void> {
  await db('posts')
    .where({ id })
    .update({ ...fields, updated_at: db.fn.now() });
}

/** Deletes a post. */
export async function deletePost(db: DbOrTx, id: number): Promise<void> {
  await db('posts').where({ id }).delete();
}

/** One page of posts matching the filter in the given order, and how many match. */
export async function listPosts(
  db: DbOrTx,
  filter: PostFilter,
  sort: SortKey[],
  page: PageRequest,
): Promise<FoundPage<PostRecord>> {
  const [rows, [count]] = await Promise.all([
    orderAndPage(applyFilter(selectPosts(db), filter), sort, page, 'p.id'),
    applyFilter(db('posts as p').count({ total: '*' }), filter),
  ]);
  const { rows: pageRows, next } = cutPage(rows as Row[], sort, page.limit);
  return { items: pageRows.map(toRecord), total: Number((count as { total?: number })?.total ?? 0), next };
}
