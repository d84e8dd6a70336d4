import { createHash } from 'node:crypto';
import type { OrderLine } from './orders';

/**
 * The fingerprint of an order request: a SHA-256 of its items in product order, so a retry that lists the same
 * items in another order is still the same request.
 */
export function requestFingerprint(lines: OrderLine[]): string {
  const canonical = [...lines].sort((a, b) => a.productId - b.productId).map((line) => [line.productId, line.quantity]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
