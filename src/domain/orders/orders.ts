import type { Db } from '../../data-access/database';
import {
  ORDER_SORT_COLUMNS,
  findOrderById,
  listOrders as listOrderRows,
  setOrderStatus,
  type OrderRecord,
} from '../../data-access/orders-repository';
import { returnStock } from '../../data-access/products-repository';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { parseSort, toPage, type Page, type PageRequest } from '../listing';
import { assertTransition, restocksOnEntry, type OrderStatus } from './status';

type Deps = { db: Db };

/** What listOrders accepts besides the page. */
export type OrderQuery = PageRequest & { userId?: number; status?: OrderStatus; sort?: string };

/**
 * Lists orders with their items, newest first by default. A user is limited to their own orders, so a `userId`
 * filter naming someone else yields an empty page; a superuser sees all and may filter on `userId`.
 */
export async function listOrders(deps: Deps, actor: Actor, query: OrderQuery): Promise<Page<OrderRecord>> {
  const sort = parseSort(query.sort, ORDER_SORT_COLUMNS, [{ column: 'created_at', direction: 'desc' }]);
  if (!actor.isSuperuser && query.userId !== undefined && query.userId !== actor.id) return toPage([], 0, query);
  const userId = actor.isSuperuser ? query.userId : actor.id;
  const { items, total } = await listOrderRows(deps.db, { userId, status: query.status }, sort, query);
  return toPage(items, total, query);
}

/** Finds an order its owner or a superuser may see; anyone else gets ORDER_NOT_FOUND, as if it did not exist. */
export async function getOrder(deps: Deps, actor: Actor, id: number): Promise<OrderRecord> {
  return visible(actor, await findOrderById(deps.db, id));
}

/**
 * Moves an order to a new status in one transaction: lock it, check the transition table, update it, and give the
 * items back to stock when the new status is cancelled.
 */
export async function changeOrderStatus(deps: Deps, actor: Actor, id: number, to: OrderStatus): Promise<OrderRecord> {
  return deps.db.transaction(async (tx) => {
    // Racing changes take turns on the row lock and the later one reads the status the earlier one set, so an order
    // is cancelled, and restocked, at most once.
    const order = visible(actor, await findOrderById(tx, id, { forUpdate: true }));
    assertTransition(order.status, to);
    await setOrderStatus(tx, id, to);
    if (restocksOnEntry(to)) await returnStock(tx, order.items);
    return visible(actor, await findOrderById(tx, id));
  });
}

function visible(actor: Actor, order: OrderRecord | undefined): OrderRecord {
  if (!order || (order.userId !== actor.id && !actor.isSuperuser)) {
    throw new AppError('ORDER_NOT_FOUND', 'The order does not exist.');
  }
  return order;
}
