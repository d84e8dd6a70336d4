import type { Db, DbOrTx } from '../../data-access/database';
import {
  attachOrderToKey,
  claimIdempotencyKey,
  findIdempotencyKey,
} from '../../data-access/idempotency-keys-repository';
import {
  ORDER_SORT_COLUMNS,
  findOrderById,
  insertOrder,
  insertOrderItems,
  listOrders as listOrderRows,
  setOrderStatus,
  settleOrderTotal,
  type OrderRecord,
  type OrderStatus,
} from '../../data-access/orders-repository';
import {
  findOrderableProducts,
  returnStock,
  takeStock,
  type OrderableProduct,
} from '../../data-access/products-repository';
import type { Clock } from '../../lib/clock';
import { AppError, type FieldIssue } from '../../lib/errors';
import type { Actor } from '../actor';
import { nothingFound, paging, parseSort, type CursorDeps, type Page, type PageQuery } from '../listing';
import { requestFingerprint } from './idempotency';
import { assertTransition, restocksOnEntry } from './status';

type Deps = { db: Db };

/** What listOrders accepts besides the page. */
export type OrderQuery = PageQuery & { userId?: number; status?: OrderStatus; sort?: string };

/**
 * Lists orders with their items, newest first by default. A user is limited to their own orders, so a `userId`
 * filter naming someone else yields an empty page; a superuser sees all and may filter on `userId`.
 */
export async function listOrders(deps: Deps & CursorDeps, actor: Actor, query: OrderQuery): Promise<Page<OrderRecord>> {
  const sort = parseSort(query.sort, ORDER_SORT_COLUMNS);
  const othersOnly = !actor.isSuperuser && query.userId !== undefined && query.userId !== actor.id;
  const filter = { userId: actor.isSuperuser || othersOnly ? query.userId : actor.id, status: query.status };
  const page = paging(deps.config.cursorKeys, { name: 'orders', sort, filter }, query);
  if (othersOnly) return page.toPage(nothingFound());
  return page.toPage(await listOrderRows(deps.db, filter, sort, page.request));
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

export type OrderDeps = { db: Db; clock: Clock; idempotencyTtlSeconds: number };

/** One requested line: which product and how many. */
export type OrderLine = { productId: number; quantity: number };

/** The order, and whether it is the replay of an earlier request with the same Idempotency-Key. */
export type PlacedOrder = { order: OrderRecord; replayed: boolean };

/**
 * Places an order in one transaction: claim the idempotency key (or replay its order), check the products, take
 * the stock in ascending product id order, then store the order with catalog prices and a total computed in SQL.
 */
export async function createOrder(
  deps: OrderDeps,
  actor: Actor,
  lines: OrderLine[],
  idempotencyKey?: string,
): Promise<PlacedOrder> {
  assertDistinctProducts(lines);
  return deps.db.transaction(async (tx) => {
    if (idempotencyKey !== undefined) {
      const replay = await claimOrReplay(deps, tx, actor, idempotencyKey, requestFingerprint(lines));
      if (replay) return { order: replay, replayed: true };
    }
    const productIds = lines.map((line) => line.productId);
    assertOrderable(lines, await findOrderableProducts(tx, productIds));
    const locked = await takeStockInIdOrder(tx, lines);
    // Checked again on the locked rows: names, prices and currencies are snapshotted from these.
    assertOrderable(lines, locked);
    const orderId = await insertOrder(tx, { userId: actor.id, currency: locked[0]?.currency ?? '' });
    await insertOrderItems(tx, orderId, snapshotItems(lines, locked));
    await settleOrderTotal(tx, orderId);
    if (idempotencyKey !== undefined) await attachOrderToKey(tx, actor.id, idempotencyKey, orderId);
    const order = await findOrderById(tx, orderId);
    if (!order) throw new Error(`order ${orderId} vanished inside its own transaction`);
    return { order, replayed: false };
  });
}

// Insert-first: the unique (user_id, key) index makes a racing twin wait here until the first one commits.
async function claimOrReplay(
  deps: OrderDeps,
  tx: DbOrTx,
  actor: Actor,
  key: string,
  requestHash: string,
): Promise<OrderRecord | undefined> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + deps.idempotencyTtlSeconds * 1000);
  if (await claimIdempotencyKey(tx, { userId: actor.id, key, requestHash, now, expiresAt })) return undefined;
  const existing = await findIdempotencyKey(tx, actor.id, key);
  if (!existing || existing.requestHash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request.');
  }
  // The claim and its order commit together, so a live claim always has its order.
  const order = existing.orderId === null ? undefined : await findOrderById(tx, existing.orderId);
  if (!order) throw new Error(`the Idempotency-Key of user ${actor.id} has no order`);
  return order;
}

function assertDistinctProducts(lines: OrderLine[]): void {
  const seen = new Set<number>();
  const issues: FieldIssue[] = [];
  lines.forEach((line, index) => {
    if (seen.has(line.productId)) issues.push(itemIssue(index, `product ${line.productId} is already in the order`));
    seen.add(line.productId);
  });
  if (issues.length) throw new AppError('VALIDATION_ERROR', 'Each product may appear only once.', issues);
}

function assertOrderable(lines: OrderLine[], products: OrderableProduct[]): void {
  const byId = new Map(products.map((product) => [product.id, product]));
  const currency = byId.get(lines[0]?.productId ?? 0)?.currency;
  const issues: FieldIssue[] = [];
  lines.forEach((line, index) => {
    const product = byId.get(line.productId);
    if (!product) issues.push(itemIssue(index, `product ${line.productId} does not exist`));
    else if (!product.isActive) issues.push(itemIssue(index, `product ${line.productId} is not available`));
    else if (currency !== undefined && product.currency !== currency) {
      issues.push(itemIssue(index, `product ${line.productId} is priced in ${product.currency}, not ${currency}`));
    }
  });
  if (issues.length) throw new AppError('VALIDATION_ERROR', 'Some items cannot be ordered.', issues);
}

// Ascending id order means two orders never wait on each other's rows in opposite orders (no deadlocks).
async function takeStockInIdOrder(tx: DbOrTx, lines: OrderLine[]): Promise<OrderableProduct[]> {
  const locked: OrderableProduct[] = [];
  const sorted = [...lines].sort((a, b) => a.productId - b.productId);
  for (const line of sorted) {
    const product = await takeStock(tx, line.productId, line.quantity);
    if (!product) {
      // Nothing taken: the product may have been deleted or deactivated since the check above. Then the answer is
      // the one an unknown or unavailable product gets, not a shortage of something that is gone.
      assertOrderable(
        lines,
        await findOrderableProducts(
          tx,
          lines.map((l) => l.productId),
        ),
      );
      const index = lines.indexOf(line);
      throw new AppError('INSUFFICIENT_STOCK', `Not enough stock for product ${line.productId}.`, [
        {
          field: ['items', index, 'quantity'],
          message: `product ${line.productId} has fewer than ${line.quantity} in stock`,
        },
      ]);
    }
    locked.push(product);
  }
  return locked;
}

function snapshotItems(lines: OrderLine[], products: OrderableProduct[]) {
  const byId = new Map(products.map((product) => [product.id, product]));
  return lines.map((line) => {
    const product = byId.get(line.productId);
    if (!product) throw new Error(`product ${line.productId} was not locked`);
    return {
      productId: line.productId,
      productName: product.name,
      unitPriceCents: product.priceCents,
      quantity: line.quantity,
    };
  });
}

const itemIssue = (index: number, message: string): FieldIssue => ({ field: ['items', index, 'productId'], message });
