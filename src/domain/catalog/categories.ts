import {
  CATEGORY_SORT_COLUMNS,
  deleteCategory as deleteCategoryRow,
  findCategoryById,
  insertCategory,
  listCategories as listCategoryRows,
  lockCategory,
  updateCategory as updateCategoryRow,
  type CategoryFields,
  type CategoryRecord,
} from '../../data-access/categories-repository';
import { isRefused, type Db, type DbOrTx } from '../../data-access/database';
import { AppError } from '../../lib/errors';
import { paging, parseSort, type CursorDeps, type Page, type PageQuery } from '../listing';
import { assertIfMatch, versionOf, type IfMatch } from '../preconditions';

type Deps = { db: Db };

/** Lists categories, optionally matching `q`, in the order `sort` gives (the spec's default: by name). */
export async function listCategories(
  deps: Deps & CursorDeps,
  query: PageQuery & { q?: string; sort?: string },
): Promise<Page<CategoryRecord>> {
  const sort = parseSort(query.sort, CATEGORY_SORT_COLUMNS);
  const filter = { q: query.q };
  const page = paging(deps.config.cursorKeys, { name: 'categories', sort, filter }, query);
  return page.toPage(await listCategoryRows(deps.db, filter, sort, page.request));
}

/** Finds a category or throws CATEGORY_NOT_FOUND. */
export async function getCategory(deps: Deps, id: number): Promise<CategoryRecord> {
  return (await findCategoryById(deps.db, id)) ?? notFound();
}

/** Creates a category; the unique index turns a taken slug into SLUG_TAKEN, also under races. */
export async function createCategory(deps: Deps, fields: CategoryFields): Promise<CategoryRecord> {
  const category = await insertCategory(deps.db, fields);
  return isRefused(category) ? slugTaken(fields.slug) : category;
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
  return deps.db.transaction(async (tx) => {
    if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedCategory(tx, id, 'update')));
    const category = (await updateCategoryRow(tx, id, fields)) ?? notFound();
    return isRefused(category) ? slugTaken(fields.slug) : category;
  });
}

/**
 * Deletes a category, with `ifMatch` only in the version it accepts. The products' foreign key (RESTRICT) makes one
 * in use CATEGORY_IN_USE, also against a product being created in it or moved to it at the same time: that write's
 * key check waits for this transaction, and then fails if the category is gone.
 */
export async function deleteCategory(deps: Deps, id: number, ifMatch?: IfMatch): Promise<void> {
  await deps.db.transaction(async (tx) => {
    if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedCategory(tx, id, 'delete')));
    const deleted = await deleteCategoryRow(tx, id);
    if (isRefused(deleted))
      throw new AppError('CATEGORY_IN_USE', 'Products still belong to this category; move or delete them first.');
    if (!deleted) notFound();
  });
}

// Read after the lock, in a statement of its own, so it sees the last committed state.
async function lockedCategory(tx: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<CategoryRecord> {
  if (!(await lockCategory(tx, id, purpose))) notFound();
  return (await findCategoryById(tx, id)) ?? notFound();
}

function notFound(): never {
  throw new AppError('CATEGORY_NOT_FOUND', 'The category does not exist.');
}

function slugTaken(slug: string | undefined): never {
  throw new AppError('SLUG_TAKEN', `Another category already has the slug "${slug ?? ''}".`);
}
