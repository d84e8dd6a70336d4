import { AppError } from '../../lib/errors';

/** The statuses an order moves through. */
export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The one table of allowed status changes: pending -> paid -> shipped -> delivered, pending or paid -> cancelled. */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** Throws INVALID_STATUS_TRANSITION unless the table allows going from `from` to `to`. */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new AppError('INVALID_STATUS_TRANSITION', `An order cannot go from ${from} to ${to}.`);
  }
}

/** Whether entering this status gives the order's items back to stock. */
export const restocksOnEntry = (status: OrderStatus): boolean => status === 'cancelled';
