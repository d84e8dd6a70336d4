import { createOrder } from '../../domain/orders/create-order';
import { changeOrderStatus, getOrder, listOrders } from '../../domain/orders/orders';
import { pageOf, requireCaller } from '../inputs/actor';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../binding/operations';
import { presentOrder, presentOrderPage } from '../presenters/orders';

/** Handlers of the `orders` tag. */
export function ordersHandlers(deps: AppDeps) {
  const orderDeps = { db: deps.db, clock: deps.clock, idempotencyTtlSeconds: deps.config.orders.idempotencyTtlSeconds };
  return {
    createOrder: async ({ body, headers, caller, baseUrl }) => {
      const lines = body.items.map((item) => ({ productId: item.product_id, quantity: item.quantity }));
      const key = headers['Idempotency-Key'];
      const { order, replayed } = await createOrder(orderDeps, requireCaller(caller), lines, key);
      return {
        status: 201,
        headers: {
          Location: `${baseUrl}/api/v1/orders/${order.id}`,
          ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
        body: presentOrder(order),
      };
    },

    listOrders: async ({ query, caller }) => {
      const page = await listOrders(deps, requireCaller(caller), {
        ...pageOf(query),
        sort: query.sort,
        status: query.status,
        userId: query.user_id,
      });
      return { status: 200, body: presentOrderPage(page) };
    },

    getOrder: async ({ params, caller }) => ({
      status: 200,
      body: presentOrder(await getOrder(deps, requireCaller(caller), params.order_id)),
    }),

    cancelOrder: async ({ params, caller }) => ({
      status: 200,
      body: presentOrder(await changeOrderStatus(deps, requireCaller(caller), params.order_id, 'cancelled')),
    }),

    updateOrderStatus: async ({ params, body, caller }) => ({
      status: 200,
      body: presentOrder(await changeOrderStatus(deps, requireCaller(caller), params.order_id, body.status)),
    }),
  } satisfies PartialHandlers;
}
