import {
  CATEGORY_SLUG_UNIQUE,
  PRODUCTS_CATEGORY_FK,
  deleteCategory as deleteCategoryRow,
  findCategoryById,
  insertCategory,
  listCategories as listCategoryRows,
  updateCategory as updateCategoryRow,
  type CategoryFields,
  type CategoryRecord,
} from '../../data-access/categories-repository';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../../data-access/database';
import { AppError } from '../../lib/errors';
import { parseSort, toPage, type Page, type PageRequest } from '../listing';

type Deps = { db: Db };

const SORT_COLUMNS = { name: 'name', slug: 'slug', created_at: 'created_at' };

/** Lists categories, optionally matching `q`, by name unless `sort` says otherwise. */
export async function listCategories(
  deps: Deps,
  query: PageRequest & { q?: string; sort?: string },
): Promise<Page<CategoryRecord>> {
  const sort = parseSort(query.sort, SORT_COLUMNS, [{ column: 'name', direction: 'asc' }]);
  const { items, total } = await listCategoryRows(deps.db, { q: query.q }, sort, query);
  return toPage(items, total, query);
}

/** Finds a category or throws CATEGORY_NOT_FOUND. */
export async function getCategory(deps: Deps, id: number): Promise<CategoryRecord> {
  return (await findCategoryById(deps.db, id)) ?? notFound();
}

/** Creates a category; the unique index turns a taken slug into SLUG_TAKEN, also under races. */
export async function createCategory(deps: Deps, fields: CategoryFields): Promise<CategoryRecord> {
  try {
    return await insertCategory(deps.db, fields);
  } catch (err) {
    throw slugTaken(err, fields.slug);
  }
}

/** Updates the given fields of a category. */
export async function updateCategory(deps: Deps, id: number, fields: Partial<CategoryFields>): Promise<CategoryRecord> {
  try {
    return (await updateCategoryRow(deps.db, id, fields)) ?? notFound();
  } catch (err) {
    throw slugTaken(err, fields.slug);
  }
}

/** Deletes a category; the products' foreign key (RESTRICT) makes one in use CATEGORY_IN_USE, also under races. */
export async function deleteCategory(deps: Deps, id: number): Promise<void> {
  let deleted: number;
  try {
    deleted = await deleteCategoryRow(deps.db, id);
  } catch (err) {
    if (!isForeignKeyViolation(err, PRODUCTS_CATEGORY_FK)) throw err;
    throw new AppError('CATEGORY_IN_USE', 'Products still belong to this category; move or delete them first.');
  }
  if (deleted === 0) notFound();
}

function notFound(): never {
  throw new AppError('CATEGORY_NOT_FOUND', 'The category does not exist.');
}

function slugTaken(err: unknown, slug: string | undefined): unknown {
  if (!isUniqueViolation(err, CATEGORY_SLUG_UNIQUE)) return err;
  return new AppError('SLUG_TAKEN', `Another category already has the slug "${slug ?? ''}".`);
}
