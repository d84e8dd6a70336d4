import { createHash } from 'node:crypto';
import type { CategoryRecord } from '../data-access/categories-repository';
import type { ProductRecord } from '../data-access/products-repository';
import type { components } from '../generated/openapi';
import type { Page } from '../domain/listing';

type Schemas = components['schemas'];

/** The API view of a category. */
export function presentCategory(category: CategoryRecord): Schemas['Category'] {
  return {
    id: category.id,
    name: category.name,
    slug: category.slug,
    description: category.description,
    created_at: category.createdAt.toISOString(),
    updated_at: category.updatedAt.toISOString(),
  };
}

/** The API view of a product, with its category nested. */
export function presentProduct(product: ProductRecord): Schemas['Product'] {
  return {
    id: product.id,
    name: product.name,
    description: product.description,
    price_cents: product.priceCents,
    currency: product.currency,
    stock: product.stock,
    category_id: product.categoryId,
    category: product.category,
    is_active: product.isActive,
    created_at: product.createdAt.toISOString(),
    updated_at: product.updatedAt.toISOString(),
  };
}

/** A page of categories in the list envelope. */
export const presentCategoryPage = (page: Page<CategoryRecord>): Schemas['CategoryPage'] => ({
  ...page,
  items: page.items.map(presentCategory),
});

/** A page of products in the list envelope. */
export const presentProductPage = (page: Page<ProductRecord>): Schemas['ProductPage'] => ({
  ...page,
  items: page.items.map(presentProduct),
});

/** A strong ETag: a hash of the representation, so any visible change (stock, category name...) changes it. */
export function strongEtag(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url')}"`;
}

/** Whether an `If-None-Match` header names this ETag (`*` names any); compared weakly, as RFC 9110 asks for GET. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
