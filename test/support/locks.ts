import type { Db } from '../../src/data-access/database';
import { eventually } from './eventually';

/**
 * Polls PostgreSQL until a session on this database waits for a lock while running a query that matches `queryLike`
 * (a LIKE pattern), or until `settled()` says the request under test already answered; fails after `timeoutMs`.
 */
export async function untilWaitingOnLock(
  db: Db,
  queryLike: string,
  what: string,
  settled: () => boolean = () => false,
  timeoutMs = 10_000,
): Promise<void> {
  await eventually(
    async () => {
      const waiting = (await db.raw(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and query like ?`,
        [queryLike],
      )) as { rows: { n: number }[] };
      return settled() || (waiting.rows[0]?.n ?? 0) > 0 ? true : undefined;
    },
    timeoutMs,
    `${what} never waited for the lock`,
  );
}
