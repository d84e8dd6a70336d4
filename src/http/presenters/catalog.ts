import type { CategoryRecord } from '../../data-access/categories-repository';
import type { ProductRecord } from '../../data-access/products-repository';
import type { components } from '../../generated/openapi';
import type { Page } from '../../domain/listing';
import { presentPage } from './page';

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
export const presentCategoryPage = (page: Page<CategoryRecord>): Schemas['CategoryPage'] =>
  presentPage(page, presentCategory);

/** A page of products in the list envelope. */
export const presentProductPage = (page: Page<ProductRecord>): Schemas['ProductPage'] =>
  presentPage(page, presentProduct);
