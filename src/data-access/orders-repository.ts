import type { DbOrTx } from './database';
import { cutPage, orderAndPage, type FoundPage, type PageRequest, type SortKey } from './listing';
import { asDate } from './database';

/** The statuses an order moves through (see the domain's transition table). */
export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'delivered' | 'cancelled';

/** One line of an order: a snapshot of the product's name and price when the order was placed. */
export type OrderItemRecord = {
  productId: number;
  productName: string;
  unitPriceCents: number;
  quantity: number;
  lineTotalCents: number;
};

/** An order with its items, as the domain sees it. */
export type OrderRecord = {
  id: number;
  userId: number;
  status: OrderStatus;
  items: OrderItemRecord[];
  totalCents: number;
  currency: string;
  createdAt: Date;
  updatedAt: Date;
};

/** The filters of an order listing; each one given narrows the result. */
export type OrderFilter = { userId?: number; status?: OrderStatus };

/** API sort field -> column. */
export const ORDER_SORT_COLUMNS = { created_at: 'created_at', total_cents: 'total_cents' };

const COLUMNS = ['id', 'user_id', 'status', 'total_cents', 'currency', 'created_at', 'updated_at'] as const;
const ITEM_COLUMNS = [
  'order_id',
  'product_id',
  'product_name',
  'unit_price_cents',
  'quantity',
  'line_total_cents',
] as const;

type Row = {
  id: number;
  user_id: number;
  status: OrderStatus;
  total_cents: number;
  currency: string;
  created_at: Date | string;
  updated_at: Date | string;
};
type ItemRow = {
  order_id: number;
  product_id: number;
  product_name: string;
  unit_price_cents: number;
  quantity: number;
  line_total_cents: number;
};

const toItem = (row: ItemRow): OrderItemRecord => ({
  productId: Number(row.product_id),
  productName: row.product_name,
  unitPriceCents: Number(row.unit_price_cents),
  quantity: Number(row.quantity),
  lineTotalCents: Number(row.line_total_cents),
});

const toRecord = (row: Row, items: OrderItemRecord[]): OrderRecord => ({
  id: Number(row.id),
  userId: Number(row.user_id),
  status: row.status,
  items,
  totalCents: Number(row.total_cents),
  currency: row.currency,
  createdAt: asDate(row.created_at),
  updatedAt: asDate(row.updated_at),
});

// One query fetches the items of every given order, however many there are.
async function withItems(db: DbOrTx, rows: Row[]): Promise<OrderRecord[]> {
  if (rows.length === 0) return [];
  const itemRows = (await db('order_items')
    .select(ITEM_COLUMNS)
    .whereIn(
      'order_id',
      rows.map((row) => row.id),
    )
    .orderBy('id')) as ItemRow[];
  const byOrder = new Map<number, OrderItemRecord[]>();
  for (const item of itemRows) {
    const list = byOrder.get(Number(item.order_id)) ?? [];
    list.push(toItem(item));
    byOrder.set(Number(item.order_id), list);
  }
  return rows.map((row) => toRecord(row, byOrder.get(Number(row.id)) ?? []));
}

/** Inserts an order with a zero total and returns its id; `settleOrderTotal` computes the total from its items. */
export async function insertOrder(db: DbOrTx, order: { userId: number; currency: string }): Promise<number> {
  const [row] = await db('orders').insert({ user_id: order.userId, currency: order.currency }).returning('id');
  return Number((row as { id: number }).id);
}

/** Inserts an order's items; the database computes each line total. */
export async function insertOrderItems(
  db: DbOrTx,
  orderId: number,
  items: { productId: number; productName: string; unitPriceCents: number; quantity: number }[],
): Promise<void> {
  await db('order_items').insert(
    items.map((item) => ({
      order_id: orderId,
      product_id: item.productId,
      product_name: item.productName,
      unit_price_cents: item.unitPriceCents,
      quantity: item.quantity,
    })),
  );
}

/** Sets the order's total to the sum of its line totals, in SQL. */
export async function settleOrderTotal(db: DbOrTx, orderId: number): Promise<void> {
  await db('orders')
    .where({ id: orderId })
    .update({
      total_cents: db('order_items').where({ order_id: orderId }).sum('line_total_cents'),
    });
}

/** Finds an order with its items; `forUpdate` locks the order row until the transaction ends. */
export async function findOrderById(
  db: DbOrTx,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<OrderRecord | undefined> {
  const query = db('orders').select(COLUMNS).where({ id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = (await query) as Row | undefined;
  if (!row) return undefined;
  const [order] = await withItems(db, [row]);
  return order;
}

/** Sets an order's status and bumps `updated_at`. */
export async function setOrderStatus(db: DbOrTx, id: number, status: OrderStatus): Promise<void> {
  await db('orders').where({ id }).update({ status, updated_at: db.fn.now() });
}

/** One page of orders with their items in three queries (count, page, items), whatever the page size. */
export async function listOrders(
  db: DbOrTx,
  filter: OrderFilter,
  sort: SortKey[],
  page: PageRequest,
): Promise<FoundPage<OrderRecord>> {
  const where = (query: ReturnType<typeof db>) => {
    if (filter.userId !== undefined) query.where('user_id', filter.userId);
    if (filter.status !== undefined) query.where('status', filter.status);
    return query;
  };
  const [rows, [count]] = await Promise.all([
    orderAndPage(where(db('orders').select(COLUMNS)), sort, page),
    where(db('orders').count({ total: '*' })),
  ]);
  const { rows: pageRows, next } = cutPage(rows as Row[], sort, page.limit);
  return { items: await withItems(db, pageRows), total: Number((count as { total?: number })?.total ?? 0), next };
}
