import type { OrderRecord } from '../../data-access/orders-repository';
import type { components } from '../../generated/openapi';
import type { Page } from '../../domain/listing';
import { presentPage } from './page';

type Schemas = components['schemas'];

/** The API view of an order with its item snapshots. */
export function presentOrder(order: OrderRecord): Schemas['Order'] {
  return {
    id: order.id,
    user_id: order.userId,
    status: order.status,
    items: order.items.map((item) => ({
      product_id: item.productId,
      product_name: item.productName,
      unit_price_cents: item.unitPriceCents,
      quantity: item.quantity,
      line_total_cents: item.lineTotalCents,
    })),
    total_cents: order.totalCents,
    currency: order.currency,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
  };
}

/** A page of orders in the list envelope. */
export const presentOrderPage = (page: Page<OrderRecord>): Schemas['OrderPage'] => presentPage(page, presentOrder);
