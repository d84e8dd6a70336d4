import type { Knex } from 'knex';
import { CountCache } from './count-cache';
import { asDate, isRefused, lockRow, prepared, refusedAs, type DbOrTx, type Refused } from './database';
import {
  cutPage,
  likeContains,
  orderAndPage,
  orderRows,
  type FoundPage,
  type PageRequest,
  type SortKey,
} from './listing';

/** The writable fields of a product. */
export type ProductFields = {
  name: string;
  description: string | null;
  priceCents: number;
  currency: string;
  stock: number;
  categoryId: number | null;
  isActive: boolean;
};

/** A product with its category's summary, as the domain sees it. */
export type ProductRecord = ProductFields & {
  id: number;
  category: { id: number; name: string; slug: string } | null;
  createdAt: Date;
  updatedAt: Date;
};

/** The filters of a product listing; each one given narrows the result. */
export type ProductFilter = {
  categoryId?: number;
  minPriceCents?: number;
  maxPriceCents?: number;
  q?: string;
  inStock?: boolean;
  isActive?: boolean;
};

/** What an order needs of a product: its snapshot fields and whether it is on sale. */
export type OrderableProduct = { id: number; name: string; priceCents: number; currency: string; isActive: boolean };

// The foreign key from order items that keeps an ordered product from being deleted, and the one to categories.
const IN_USE = { order_items_product_id_foreign: 'in-use' } as const;
const UNKNOWN_CATEGORY = { products_category_id_foreign: 'unknown-category' } as const;

/** API sort field -> column of the listing query. */
export const PRODUCT_SORT_COLUMNS = { price_cents: 'p.price_cents', created_at: 'p.created_at', name: 'p.name' };

const COLUMNS = [
  'p.id',
  'p.name',
  'p.description',
  'p.price_cents',
  'p.currency',
  'p.stock',
  'p.category_id',
  'p.is_active',
  'p.created_at',
  'p.updated_at',
  'c.name as category_name',
  'c.slug as category_slug',
] as const;

type Row = {
  id: number;
  name: string;
  description: string | null;
  price_cents: number;
  currency: string;
  stock: number;
  category_id: number | null;
  is_active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
  category_name: string | null;
  category_slug: string | null;
};

const toRecord = (row: Row): ProductRecord => ({
  id: Number(row.id),
  name: row.name,
  description: row.description,
  priceCents: Number(row.price_cents),
  currency: row.currency,
  stock: Number(row.stock),
  categoryId: row.category_id === null ? null : Number(row.category_id),
  category:
    row.category_id === null || row.category_name === null || row.category_slug === null
      ? null
      : { id: Number(row.category_id), name: row.category_name, slug: row.category_slug },
  isActive: row.is_active,
  createdAt: asDate(row.created_at),
  updatedAt: asDate(row.updated_at),
});

const toColumns = (fields: Partial<ProductFields>) => ({
  name: fields.name,
  description: fields.description,
  price_cents: fields.priceCents,
  currency: fields.currency,
  stock: fields.stock,
  category_id: fields.categoryId,
  is_active: fields.isActive,
});

// One LEFT JOIN nests the category of every row; no query per product.
const selectProducts = (db: DbOrTx) =>
  db('products as p').leftJoin('categories as c', 'c.id', 'p.category_id').select(COLUMNS);

function applyFilter(query: Knex.QueryBuilder, filter: ProductFilter): Knex.QueryBuilder {
  if (filter.categoryId !== undefined) query.where('p.category_id', filter.categoryId);
  if (filter.minPriceCents !== undefined) query.where('p.price_cents', '>=', filter.minPriceCents);
  if (filter.maxPriceCents !== undefined) query.where('p.price_cents', '<=', filter.maxPriceCents);
  if (filter.inStock !== undefined) query.where('p.stock', filter.inStock ? '>' : '=', 0);
  if (filter.isActive !== undefined) query.where('p.is_active', filter.isActive);
  // search_text is lower(name || newline || description), see migration 004.
  if (filter.q !== undefined) query.whereRaw('p.search_text LIKE lower(?)', [likeContains(filter.q)]);
  return query;
}

/** Inserts a product and returns its id, or `unknown-category` when its category does not exist. */
export async function insertProduct(db: DbOrTx, fields: ProductFields): Promise<number | Refused<'unknown-category'>> {
  const rows = await refusedAs(db('products').insert(toColumns(fields)).returning('id'), UNKNOWN_CATEGORY);
  return isRefused(rows) ? rows : Number((rows[0] as { id: number }).id);
}

/** Finds a product with its category summary. */
export async function findProductById(db: DbOrTx, id: number): Promise<ProductRecord | undefined> {
  const [row] = await selectProductById<Row>(db, [id]);
  return row && toRecord(row);
}
// getProduct's lookup, the API's most frequent query.
const selectProductById = prepared((db) => selectProducts(db).where('p.id', 0).limit(1, { skipBinding: true }));

/** Locks a product's row until the transaction ends (see lockRow); false when there is none. */
export const lockProduct = (db: DbOrTx, id: number, purpose: 'update' | 'delete'): Promise<boolean> =>
  lockRow(db, 'products', id, purpose);

/** Updates the given fields and `updated_at`: whether the product exists, or `unknown-category`. */
export async function updateProduct(
  db: DbOrTx,
  id: number,
  fields: Partial<ProductFields>,
): Promise<boolean | Refused<'unknown-category'>> {
  const updated = await refusedAs(
    db('products')
      .where({ id })
      .update({ ...toColumns(fields), updated_at: db.fn.now() }),
    UNKNOWN_CATEGORY,
  );
  return isRefused(updated) ? updated : updated === 1;
}

/** Deletes a product: whether it existed, or `in-use` when orders mention it (RESTRICT). */
export async function deleteProduct(db: DbOrTx, id: number): Promise<boolean | Refused<'in-use'>> {
  const rows = await refusedAs(db('products').where({ id }).delete().returning('id'), IN_USE);
  return isRefused(rows) ? rows : rows.length === 1;
}

// One cache of totals per database handle (per app), never per transaction: a total counted inside a transaction
// may include its own uncommitted writes.
const countCaches = new WeakMap<DbOrTx, CountCache>();
function countsFor(db: DbOrTx): CountCache | undefined {
  if (db.isTransaction) return undefined;
  let counts = countCaches.get(db);
  if (!counts) countCaches.set(db, (counts = new CountCache()));
  return counts;
}

/**
 * One page of products matching the filter in the given order, and how many match; all in SQL. Outside a
 * transaction the page query also reads the catalog version, and the exact total counted at that version is reused,
 * so a listing costs one query instead of a page query plus a count over every matching row.
 */
export async function listProducts(
  db: DbOrTx,
  filter: ProductFilter,
  sort: SortKey[],
  page: PageRequest,
): Promise<FoundPage<ProductRecord>> {
  const counts = countsFor(db);
  // Deferred join: the window of ids comes from an index-only scan, so a deep offset skips index entries, not rows,
  // and a keyset page (page.after) starts its range scan at its position; only the page's own rows are then read
  // and joined to their category.
  const pageIds = orderAndPage(applyFilter(db('products as p').select('p.id'), filter), sort, page, 'p.id');
  const pageRows = orderRows(selectProducts(db).join(pageIds.as('page'), 'page.id', 'p.id'), sort, 'p.id');
  // Stock is not part of the catalog version (see migration 007), so an in_stock total is always counted.
  if (!counts || filter.inStock !== undefined) {
    const [rows, [count]] = await Promise.all([
      pageRows,
      applyFilter(db('products as p').count({ total: '*' }), filter),
    ]);
    return { ...toFound(rows as Row[], sort, page), total: Number((count as { total?: number })?.total ?? 0) };
  }
  const rows = (await pageRows.select(catalogVersion(db))) as (Row & { catalog_version: number })[];
  const found = toFound(rows, sort, page);
  const key = countKey(filter);
  const version = rows[0]?.catalog_version;
  const cached = version === undefined ? undefined : counts.get(key, Number(version));
  if (cached !== undefined) return { ...found, total: cached };
  // One statement, so the total and the version it is stored under come from the same snapshot.
  const [counted] = (await db
    .select(catalogVersion(db))
    .select(applyFilter(db('products as p').count('*'), filter).as('total'))) as {
    catalog_version: number;
    total: number;
  }[];
  const total = Number(counted?.total ?? 0);
  counts.set(key, Number(counted?.catalog_version), total);
  return { ...found, total };
}

function toFound(rows: Row[], sort: SortKey[], page: PageRequest) {
  const { rows: pageRows, next } = cutPage(rows, sort, page.limit);
  return { items: pageRows.map(toRecord), next };
}

const catalogVersion = (db: DbOrTx) => db.raw('(SELECT version FROM catalog_version WHERE id = 1) AS catalog_version');

// The filter fields in a fixed order: equal filters give equal keys.
const countKey = (filter: ProductFilter): string =>
  JSON.stringify([filter.categoryId, filter.minPriceCents, filter.maxPriceCents, filter.q, filter.isActive]);

const ORDERABLE_COLUMNS = ['id', 'name', 'price_cents', 'currency', 'is_active'] as const;

type OrderableRow = { id: number; name: string; price_cents: number; currency: string; is_active: boolean };

const toOrderable = (row: OrderableRow): OrderableProduct => ({
  id: Number(row.id),
  name: row.name,
  priceCents: Number(row.price_cents),
  currency: row.currency,
  isActive: row.is_active,
});

/** The orderable view of the given products (missing ids are simply absent). */
export async function findOrderableProducts(db: DbOrTx, ids: number[]): Promise<OrderableProduct[]> {
  const rows = (await db('products').select(ORDERABLE_COLUMNS).whereIn('id', ids)) as OrderableRow[];
  return rows.map(toOrderable);
}

/**
 * Takes `quantity` out of stock only if that much is there, in one conditional UPDATE (which also locks the row);
 * returns the product as it is now, or undefined when the stock is short.
 */
export async function takeStock(
  db: DbOrTx,
  productId: number,
  quantity: number,
): Promise<OrderableProduct | undefined> {
  const [row] = (await db('products')
    .where({ id: productId })
    .andWhere('stock', '>=', quantity)
    .update({ stock: db.raw('stock - ?', [quantity]), updated_at: db.fn.now() })
    .returning(ORDERABLE_COLUMNS)) as OrderableRow[];
  return row && toOrderable(row);
}

/** Puts quantities back into stock, one product at a time in ascending id order (the order stock is taken in). */
export async function returnStock(db: DbOrTx, items: { productId: number; quantity: number }[]): Promise<void> {
  const sorted = [...items].sort((a, b) => a.productId - b.productId);
  for (const item of sorted) {
    await db('products')
      .where({ id: item.productId })
      .update({ stock: db.raw('stock + ?', [item.quantity]), updated_at: db.fn.now() });
  }
}
