import { changeOrderStatus, createOrder, getOrder, listOrders } from '../../domain/orders/orders';
import { pageOf, requireActor } from '../inputs/request';
import type { AppDeps } from '../deps';
import type { Links } from '../binding/links';
import type { PartialHandlers } from '../binding/operations';
import { presentOrder, presentOrderPage } from '../presenters/orders';

/** Handlers of the `orders` tag. */
export function ordersHandlers(deps: AppDeps & { links: Links }) {
  const orderDeps = { db: deps.db, clock: deps.clock, idempotencyTtlSeconds: deps.config.orders.idempotencyTtlSeconds };
  return {
    createOrder: async ({ body, headers, actor, baseUrl }) => {
      const lines = body.items.map((item) => ({ productId: item.product_id, quantity: item.quantity }));
      const key = headers['Idempotency-Key'];
      const { order, replayed } = await createOrder(orderDeps, requireActor(actor), lines, key);
      return {
        status: 201,
        headers: {
          Location: deps.links('getOrder', { order_id: order.id }, baseUrl),
          ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
        body: presentOrder(order),
      };
    },

    listOrders: async ({ query, actor }) => {
      const page = await listOrders(deps, requireActor(actor), {
        ...pageOf(query),
        sort: query.sort,
        status: query.status,
        userId: query.user_id,
      });
      return { status: 200, body: presentOrderPage(page) };
    },

    getOrder: async ({ params, actor }) => ({
      status: 200,
      body: presentOrder(await getOrder(deps, requireActor(actor), params.order_id)),
    }),

    cancelOrder: async ({ params, actor }) => ({
      status: 200,
      body: presentOrder(await changeOrderStatus(deps, requireActor(actor), params.order_id, 'cancelled')),
    }),

    updateOrderStatus: async ({ params, body, actor }) => ({
      status: 200,
      body: presentOrder(await changeOrderStatus(deps, requireActor(actor), params.order_id, body.status)),
    }),
  } satisfies PartialHandlers;
}
