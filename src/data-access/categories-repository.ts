import type { Knex } from 'knex';
import type { PageRequest, SortKey } from '../domain/listing';
import { asDate, lockRow, type DbOrTx } from './database';
import { likeContains, orderAndPage } from './listing';

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

/** The unique index a category insert or update can break. */
export const CATEGORY_SLUG_UNIQUE = 'categories_slug_unique';

/** The foreign key from products that makes a category in use undeletable. */
export const PRODUCTS_CATEGORY_FK = 'products_category_id_foreign';

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

/** Inserts a category; the unique index rejects a taken slug. */
export async function insertCategory(db: DbOrTx, fields: CategoryFields): Promise<CategoryRecord> {
  const [row] = await db('categories').insert(fields).returning(COLUMNS);
  return toRecord(row as Row);
}

/** Finds a category by id. */
export async function findCategoryById(db: DbOrTx, id: number): Promise<CategoryRecord | undefined> {
  const row = (await db('categories').select(COLUMNS).where({ id }).first()) as Row | undefined;
  return row && toRecord(row);
}

/** Locks a category's row until the transaction ends (see lockRow); false when there is none. */
export const lockCategory = (db: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<boolean> =>
  lockRow(db, 'categories', id, purpose);

/** Updates the given fields and `updated_at`; undefined when the category does not exist. */
export async function updateCategory(
  db: DbOrTx,
  id: number,
  fields: Partial<CategoryFields>,
): Promise<CategoryRecord | undefined> {
  const [row] = await db('categories')
    .where({ id })
    .update({ ...fields, updated_at: db.fn.now() })
    .returning(COLUMNS);
  return row && toRecord(row as Row);
}

/** Deletes a category; the number of rows deleted (0 or 1). Products referencing it make this throw (RESTRICT). */
export async function deleteCategory(db: DbOrTx, id: number): Promise<number> {
  const rows = await db('categories').where({ id }).delete().returning('id');
  return rows.length;
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
): Promise<{ items: CategoryRecord[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    orderAndPage(applyFilter(db('categories').select(COLUMNS), filter), sort, page),
    applyFilter(db('categories').count({ total: '*' }), filter),
  ]);
  return { items: (rows as Row[]).map(toRecord), total: Number(count?.total ?? 0) };
}
