import type { Db } from '../../data-access/database';
import { deleteUserById } from '../../data-access/users-repository';
import { AppError } from '../../lib/errors';
import { assertNotLastSuperuser } from './last-superuser';

/** Deletes a user with everything they own, unless they are the last active superuser. */
export async function deleteUser(deps: { db: Db }, userId: number): Promise<void> {
  await deps.db.transaction(async (trx) => {
    await assertNotLastSuperuser(trx, userId);
    if (!(await deleteUserById(trx, userId))) throw new AppError('USER_NOT_FOUND', 'The user does not exist.');
  });
}
