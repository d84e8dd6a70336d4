import type { DbOrTx } from './database';

/** Runs the cheapest round trip the database can answer. */
export async function pingDatabase(db: DbOrTx): Promise<void> {
  await db.raw('select 1');
}
