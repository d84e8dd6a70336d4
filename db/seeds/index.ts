import type { Knex } from 'knex';
import type { Config } from '../../src/lib/config';
import type { Logger } from '../../src/lib/logger';
import { demoCatalog } from './demo-catalog';
import { firstSuperuser } from './first-superuser';

/** A seed step: idempotent, so `make seed` and `make run` can run it any number of times. */
export type Seed = { name: string; run: (db: Knex, config: Config, logger: Logger) => Promise<void> };

// Run in this order by `make seed`; each step checks what exists before inserting.
export const seeds: Seed[] = [firstSuperuser, demoCatalog];
