import type { Knex } from 'knex';
import { asDate, isRefused, lockRow, refusedAs, type DbOrTx, type Refused } from './database';
import { cutPage, likeContains, orderAndPage, type FoundPage, type PageRequest, type SortKey } from './listing';

/** A category row as the domain sees it. */
export type CategoryRecord = {
  id: number;
  name: string;
  slug: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
};

/** The writable fields of a category. */
export type CategoryFields = { name: string; slug: string; description: string | null };

/** API sort field -> column of the listing query. */
export const CATEGORY_SORT_COLUMNS = { name: 'name', slug: 'slug', created_at: 'created_at' };

// The unique index on slugs, and the foreign key from products that keeps a category in use from being deleted.
const SLUG_TAKEN = { categories_slug_unique: 'slug-taken' } as const;
const IN_USE = { products_category_id_foreign: 'in-use' } as const;

const COLUMNS = ['id', 'name', 'slug', 'description', 'created_at', 'updated_at'] as const;

type Row = {
  id: number;
  name: string;
  slug: string;
  description: string | null;
  created_at: Date | string;
  updated_at: Date | string;
};

const toRecord = (row: Row): CategoryRecord => ({
  id: Number(row.id),
  name: row.name,
  slug: row.slug,
  description: row.description,
  createdAt: asDate(row.created_at),
  updatedAt: asDate(row.updated_at),
});

/** Inserts a category; `slug-taken` when another has its slug. */
export async function insertCategory(
  db: DbOrTx,
  fields: CategoryFields,
): Promise<CategoryRecord | Refused<'slug-taken'>> {
  const rows = await refusedAs(db('categories').insert(fields).returning(COLUMNS), SLUG_TAKEN);
  return isRefused(rows) ? rows : toRecord(rows[0] as Row);
}

/** Finds a category by id. */
export async function findCategoryById(db: DbOrTx, id: number): Promise<CategoryRecord | undefined> {
  const row = (await db('categories').select(COLUMNS).where({ id }).first()) as Row | undefined;
  return row && toRecord(row);
}

/** Locks a category's row until the transaction ends (see lockRow); false when there is none. */
export const lockCategory = (db: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<boolean> =>
  lockRow(db, 'categories', id, purpose);

/** Updates the given fields and `updated_at`; undefined when the category does not exist, `slug-taken` as above. */
export async function updateCategory(
  db: DbOrTx,
  id: number,
  fields: Partial<CategoryFields>,
): Promise<CategoryRecord | undefined | Refused<'slug-taken'>> {
  const rows = await refusedAs(
    db('categories')
      .where({ id })
      .update({ ...fields, updated_at: db.fn.now() })
      .returning(COLUMNS),
    SLUG_TAKEN,
  );
  if (isRefused(rows)) return rows;
  return rows[0] && toRecord(rows[0] as Row);
}

/** Deletes a category: whether it existed, or `in-use` when products still belong to it (RESTRICT). */
export async function deleteCategory(db: DbOrTx, id: number): Promise<boolean | Refused<'in-use'>> {
  const rows = await refusedAs(db('categories').where({ id }).delete().returning('id'), IN_USE);
  return isRefused(rows) ? rows : rows.length === 1;
}

function applyFilter(query: Knex.QueryBuilder, filter: { q?: string }): Knex.QueryBuilder {
  if (filter.q !== undefined) {
    const pattern = likeContains(filter.q);
    query.where((where) => where.whereILike('name', pattern).orWhereILike('slug', pattern));
  }
  return query;
}

/** One page of the categories matching the filter in the given order, and how many match. */
export async function listCategories(
  db: DbOrTx,
  filter: { q?: string },
  sort: SortKey[],
  page: PageRequest,
): Promise<FoundPage<CategoryRecord>> {
  const [rows, [count]] = await Promise.all([
    orderAndPage(applyFilter(db('categories').select(COLUMNS), filter), sort, page),
    applyFilter(db('categories').count({ total: '*' }), filter),
  ]);
  const { rows: pageRows, next } = cutPage(rows as Row[], sort, page.limit);
  return { items: pageRows.map(toRecord), total: Number(count?.total ?? 0), next };
}
