import {
  CATEGORY_SLUG_UNIQUE,
  PRODUCTS_CATEGORY_FK,
  deleteCategory as deleteCategoryRow,
  findCategoryById,
  insertCategory,
  listCategories as listCategoryRows,
  lockCategory,
  updateCategory as updateCategoryRow,
  type CategoryFields,
  type CategoryRecord,
} from '../../data-access/categories-repository';
import { isForeignKeyViolation, isUniqueViolation, type Db, type DbOrTx } from '../../data-access/database';
import { AppError } from '../../lib/errors';
import { parseSort, toPage, type Page, type PageRequest } from '../listing';
import { assertIfMatch, versionOf, type IfMatch } from '../preconditions';

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

/**
 * Updates the given fields of a category; with `ifMatch`, only if its current version is one it accepts
 * (PRECONDITION_FAILED otherwise). The condition is checked on the row locked in the transaction that writes it;
 * without one, the single UPDATE ... RETURNING reads nothing beforehand, and the unique index decides racing slugs.
 */
export async function updateCategory(
  deps: Deps,
  id: number,
  fields: Partial<CategoryFields>,
  ifMatch?: IfMatch,
): Promise<CategoryRecord> {
  try {
    return await deps.db.transaction(async (tx) => {
      if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedCategory(tx, id, 'update')));
      return (await updateCategoryRow(tx, id, fields)) ?? notFound();
    });
  } catch (err) {
    throw slugTaken(err, fields.slug);
  }
}

/**
 * Deletes a category, with `ifMatch` only in the version it accepts. The products' foreign key (RESTRICT) makes one
 * in use CATEGORY_IN_USE, also against a product being created in it or moved to it at the same time: that write's
 * key check waits for this transaction, and then fails if the category is gone.
 */
export async function deleteCategory(deps: Deps, id: number, ifMatch?: IfMatch): Promise<void> {
  try {
    await deps.db.transaction(async (tx) => {
      if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedCategory(tx, id, 'delete')));
      if ((await deleteCategoryRow(tx, id)) === 0) notFound();
    });
  } catch (err) {
    if (!isForeignKeyViolation(err, PRODUCTS_CATEGORY_FK)) throw err;
    throw new AppError('CATEGORY_IN_USE', 'Products still belong to this category; move or delete them first.');
  }
}

// Read after the lock, in a statement of its own, so it sees the last committed state.
async function lockedCategory(tx: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<CategoryRecord> {
  if (!(await lockCategory(tx, id, purpose))) notFound();
  return (await findCategoryById(tx, id)) ?? notFound();
}

function notFound(): never {
  throw new AppError('CATEGORY_NOT_FOUND', 'The category does not exist.');
}

function slugTaken(err: unknown, slug: string | undefined): unknown {
  if (!isUniqueViolation(err, CATEGORY_SLUG_UNIQUE)) return err;
  return new AppError('SLUG_TAKEN', `Another category already has the slug "${slug ?? ''}".`);
}
