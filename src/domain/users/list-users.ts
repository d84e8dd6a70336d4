import type { Db } from '../../data-access/database';
import { listUsers as listUserRows, type UserFilters, type UserRecord } from '../../data-access/users-repository';
import { parseSort, toPage, type Page, type PageRequest } from '../listing';

const SORTABLE = { created_at: 'created_at', email: 'email', username: 'username' };

/** Lists users for a superuser: filtered, sorted by whitelisted fields and paged. */
export async function listUsers(
  deps: { db: Db },
  filters: UserFilters,
  sort: string | undefined,
  page: PageRequest,
): Promise<Page<UserRecord>> {
  const keys = parseSort(sort, SORTABLE, [{ column: 'created_at', direction: 'asc' }]);
  const { users, total } = await listUserRows(deps.db, filters, keys, page);
  return toPage(users, total, page);
}
