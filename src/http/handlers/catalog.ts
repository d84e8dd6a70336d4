import {
  createCategory,
  deleteCategory,
  getCategory,
  listCategories,
  updateCategory,
} from '../../domain/catalog/categories';
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from '../../domain/catalog/products';
import { versionOf } from '../../domain/preconditions';
import type { CategoryRecord } from '../../data-access/categories-repository';
import type { ProductFields, ProductRecord } from '../../data-access/products-repository';
import type { components } from '../../generated/openapi';
import { presentCategory, presentCategoryPage, presentProduct, presentProductPage } from '../presenters/catalog';
import { etagOf, ifNoneMatchHits, parseIfMatch } from '../inputs/conditional';
import { pageOf, withDefault } from '../inputs/request';
import type { AppDeps } from '../deps';
import type { Links } from '../binding/links';
import type { PartialHandlers } from '../binding/operations';

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
export function catalogHandlers(deps: AppDeps & { links: Links }) {
  // Every answer with a product or category carries its ETag, which If-Match sends back (src/domain/preconditions).
  const productReply = <S extends 200 | 201>(status: S, product: ProductRecord) => ({
    status,
    headers: { ETag: etagOf(versionOf(product)) },
    body: presentProduct(product),
  });
  const categoryReply = <S extends 200 | 201>(status: S, category: CategoryRecord) => ({
    status,
    headers: { ETag: etagOf(versionOf(category)) },
    body: presentCategory(category),
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
      const reply = categoryReply(201, category);
      return {
        ...reply,
        headers: { ...reply.headers, Location: deps.links('getCategory', { category_id: category.id }, baseUrl) },
      };
    },

    getCategory: async ({ params }) => categoryReply(200, await getCategory(deps, params.category_id)),

    updateCategory: async ({ params, body, headers }) =>
      categoryReply(200, await updateCategory(deps, params.category_id, body, parseIfMatch(headers['If-Match']))),

    deleteCategory: async ({ params, headers }) => {
      await deleteCategory(deps, params.category_id, parseIfMatch(headers['If-Match']));
      return { status: 204 };
    },

    listProducts: async ({ query, actor }) => {
      const page = await listProducts(deps, actor, {
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
        description: withDefault(body.description, 'description'),
        priceCents: body.price_cents,
        currency: body.currency,
        stock: withDefault(body.stock, 'stock'),
        categoryId: withDefault(body.category_id, 'category_id'),
        isActive: withDefault(body.is_active, 'is_active'),
      });
      const reply = productReply(201, product);
      return {
        ...reply,
        headers: { ...reply.headers, Location: deps.links('getProduct', { product_id: product.id }, baseUrl) },
      };
    },

    getProduct: async ({ params, headers, actor }) => {
      const reply = productReply(200, await getProduct(deps, actor, params.product_id));
      if (ifNoneMatchHits(headers['If-None-Match'], reply.headers.ETag)) {
        return { status: 304, headers: reply.headers };
      }
      return reply;
    },

    replaceProduct: async ({ params, body, headers }) =>
      productReply(
        200,
        await updateProduct(deps, params.product_id, productFields(body), parseIfMatch(headers['If-Match'])),
      ),

    updateProduct: async ({ params, body, headers }) =>
      productReply(
        200,
        await updateProduct(deps, params.product_id, productFields(body), parseIfMatch(headers['If-Match'])),
      ),

    deleteProduct: async ({ params, headers }) => {
      await deleteProduct(deps, params.product_id, parseIfMatch(headers['If-Match']));
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}
