import {
  createCategory,
  deleteCategory,
  getCategory,
  listCategories,
  updateCategory,
} from '../../domain/catalog/categories';
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from '../../domain/catalog/products';
import { CountCache } from '../../data-access/count-cache';
import type { ProductFields } from '../../data-access/products-repository';
import type { components } from '../../generated/openapi';
import {
  ifNoneMatchHits,
  presentCategory,
  presentCategoryPage,
  presentProduct,
  presentProductPage,
  strongEtag,
} from '../catalog-presenters';
import { pageOf } from '../caller';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../operations';

type ProductBody = Partial<components['schemas']['ProductReplace']>;

const productFields = (body: ProductBody): Partial<ProductFields> => ({
  name: body.name,
  description: body.description,
  priceCents: body.price_cents,
  currency: body.currency,
  stock: body.stock,
  categoryId: body.category_id,
  isActive: body.is_active,
});

/** Handlers of the `categories` and `products` tags. */
export function catalogHandlers(deps: AppDeps) {
  // Per app instance; exact across instances because entries are keyed by the catalog version in the database.
  const listDeps = { ...deps, productCounts: new CountCache() };
  const productReply = <S extends 200 | 201>(status: S, body: components['schemas']['Product']) => ({
    status,
    headers: { ETag: strongEtag(body) },
    body,
  });

  return {
    listCategories: async ({ query }) => {
      const page = await listCategories(deps, { ...pageOf(query), q: query.q, sort: query.sort });
      return { status: 200, body: presentCategoryPage(page) };
    },

    createCategory: async ({ body, baseUrl }) => {
      const category = await createCategory(deps, {
        name: body.name,
        slug: body.slug,
        description: body.description ?? null,
      });
      return {
        status: 201,
        headers: { Location: `${baseUrl}/api/v1/categories/${category.id}` },
        body: presentCategory(category),
      };
    },

    getCategory: async ({ params }) => ({
      status: 200,
      body: presentCategory(await getCategory(deps, params.category_id)),
    }),

    updateCategory: async ({ params, body }) => ({
      status: 200,
      body: presentCategory(await updateCategory(deps, params.category_id, body)),
    }),

    deleteCategory: async ({ params }) => {
      await deleteCategory(deps, params.category_id);
      return { status: 204 };
    },

    listProducts: async ({ query, caller }) => {
      const page = await listProducts(listDeps, caller, {
        ...pageOf(query),
        sort: query.sort,
        q: query.q,
        categoryId: query.category_id,
        minPriceCents: query.min_price_cents,
        maxPriceCents: query.max_price_cents,
        inStock: query.in_stock,
        isActive: query.is_active,
      });
      return { status: 200, body: presentProductPage(page) };
    },

    createProduct: async ({ body, baseUrl }) => {
      const product = await createProduct(deps, {
        name: body.name,
        description: body.description ?? null,
        priceCents: body.price_cents,
        currency: body.currency,
        stock: body.stock ?? 0,
        categoryId: body.category_id ?? null,
        isActive: body.is_active ?? true,
      });
      const reply = productReply(201, presentProduct(product));
      return { ...reply, headers: { ...reply.headers, Location: `${baseUrl}/api/v1/products/${product.id}` } };
    },

    getProduct: async ({ params, headers, caller }) => {
      const reply = productReply(200, presentProduct(await getProduct(deps, caller, params.product_id)));
      if (ifNoneMatchHits(headers['If-None-Match'], reply.headers.ETag)) {
        return { status: 304, headers: reply.headers };
      }
      return reply;
    },

    replaceProduct: async ({ params, body }) =>
      productReply(200, presentProduct(await updateProduct(deps, params.product_id, productFields(body)))),

    updateProduct: async ({ params, body }) =>
      productReply(200, presentProduct(await updateProduct(deps, params.product_id, productFields(body)))),

    deleteProduct: async ({ params }) => {
      await deleteProduct(deps, params.product_id);
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}
