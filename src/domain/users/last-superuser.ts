import type { DbOrTx } from '../../data-access/database';
import { lockActiveSuperuserIds } from '../../data-access/users-repository';
import { AppError } from '../../lib/errors';

/**
 * Refuses to remove the given user from the active superusers when they are the last one. Call it inside the
 * transaction that removes them: the superuser rows stay locked until it ends, so two concurrent removals serialize.
 */
export async function assertNotLastSuperuser(trx: DbOrTx, userId: number): Promise<void> {
  const ids = await lockActiveSuperuserIds(trx);
  if (ids.length === 1 && ids[0] === userId) {
    throw new AppError('LAST_SUPERUSER', 'This would leave no active superuser.');
  }
}
