import { isRefused, type Db, type DbOrTx } from '../../data-access/database';
import {
  PRODUCT_SORT_COLUMNS,
  deleteProduct as deleteProductRow,
  findProductById,
  insertProduct,
  listProducts as listProductRows,
  lockProduct,
  updateProduct as updateProductRow,
  type ProductFields,
  type ProductFilter,
  type ProductRecord,
} from '../../data-access/products-repository';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { nothingFound, paging, parseSort, type CursorDeps, type Page, type PageQuery } from '../listing';
import { assertIfMatch, versionOf, type IfMatch } from '../preconditions';

type Deps = { db: Db };

/** What listProducts accepts besides the page: the filters and the sort. */
export type ProductQuery = PageQuery & ProductFilter & { sort?: string };

/**
 * Lists products in SQL. Only superusers see inactive products and filter on `isActive`; for anyone else the list
 * is limited to active products, so asking them for inactive ones yields an empty page.
 */
export async function listProducts(
  deps: Deps & CursorDeps,
  actor: Actor | undefined,
  query: ProductQuery,
): Promise<Page<ProductRecord>> {
  assertPriceRange(query.minPriceCents, query.maxPriceCents);
  const sort = parseSort(query.sort, PRODUCT_SORT_COLUMNS);
  const seesInactive = actor?.isSuperuser === true;
  const filter: ProductFilter = {
    categoryId: query.categoryId,
    minPriceCents: query.minPriceCents,
    maxPriceCents: query.maxPriceCents,
    q: query.q,
    inStock: query.inStock,
    isActive: seesInactive ? query.isActive : (query.isActive ?? true),
  };
  const page = paging(deps.config.cursorKeys, { name: 'products', sort, filter }, query);
  if (!seesInactive && query.isActive === false) return page.toPage(nothingFound());
  return page.toPage(await listProductRows(deps.db, filter, sort, page.request));
}

/** Finds a product; an inactive one is PRODUCT_NOT_FOUND to everyone but superusers. */
export async function getProduct(deps: Deps, actor: Actor | undefined, id: number): Promise<ProductRecord> {
  const product = await findProductById(deps.db, id);
  if (!product || (!product.isActive && !actor?.isSuperuser)) notFound();
  return product;
}

/** Creates a product; an unknown category is a validation error on `categoryId`. */
export async function createProduct(deps: Deps, fields: ProductFields): Promise<ProductRecord> {
  const id = await insertProduct(deps.db, fields);
  if (isRefused(id)) unknownCategory();
  return (await findProductById(deps.db, id)) ?? notFound();
}

/**
 * Updates the given fields (all of them for a replacement) and bumps `updated_at`; with `ifMatch`, only if the
 * product's current version is one it accepts (PRECONDITION_FAILED otherwise, and nothing changes).
 *
 * Atomicity: the condition is checked on the row locked in the transaction that writes it, so of two editors
 * holding one version the second waits and then sees the first one's. Without a condition nothing is read before
 * the write: the one UPDATE applies the given fields to the row as it is then. Either way the answer is read in
 * the transaction while the row is still locked, so it and its ETag are this write's result, not a later one's.
 */
export async function updateProduct(
  deps: Deps,
  id: number,
  fields: Partial<ProductFields>,
  ifMatch?: IfMatch,
): Promise<ProductRecord> {
  return deps.db.transaction(async (tx) => {
    if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedProduct(tx, id, 'update')));
    const updated = await updateProductRow(tx, id, fields);
    if (isRefused(updated)) unknownCategory();
    if (!updated) notFound();
    return (await findProductById(tx, id)) ?? notFound();
  });
}

/**
 * Deletes a product no order mentions, with `ifMatch` only in the version it accepts. One that orders mention is
 * PRODUCT_IN_USE: the order items' foreign key decides, also against an order being placed at the same time.
 */
export async function deleteProduct(deps: Deps, id: number, ifMatch?: IfMatch): Promise<void> {
  await deps.db.transaction(async (tx) => {
    if (ifMatch) assertIfMatch(ifMatch, versionOf(await lockedProduct(tx, id, 'delete')));
    const deleted = await deleteProductRow(tx, id);
    if (isRefused(deleted))
      throw new AppError('PRODUCT_IN_USE', 'Orders mention this product; deactivate it with is_active=false instead.');
    if (!deleted) notFound();
  });
}

// Read after the lock, in a statement of its own, so it sees the last committed state, its category's included.
async function lockedProduct(tx: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<ProductRecord> {
  if (!(await lockProduct(tx, id, purpose))) notFound();
  return (await findProductById(tx, id)) ?? notFound();
}

function assertPriceRange(min: number | undefined, max: number | undefined): void {
  if (min !== undefined && max !== undefined && min > max) {
    throw new AppError('VALIDATION_ERROR', 'The price range is empty.', [
      { field: ['minPriceCents'], message: 'must not exceed max_price_cents' },
    ]);
  }
}

function unknownCategory(): never {
  throw new AppError('VALIDATION_ERROR', 'The category does not exist.', [
    { field: ['categoryId'], message: 'no category has this id' },
  ]);
}

function notFound(): never {
  throw new AppError('PRODUCT_NOT_FOUND', 'The product does not exist.');
}
