import type { OrderStatus } from '../../data-access/orders-repository';
import { AppError } from '../../lib/errors';

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
