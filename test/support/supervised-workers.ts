import cluster from 'node:cluster';
import { STARTUP_FAILED_EXIT_CODE, superviseWorkers } from '../../src/main';
import { createLogger } from '../../src/lib/logger';

// A primary that supervises two workers which fail to start as WORKER_FAILURE says: `silent` exits with the
// start-up failure code without a message (what the primary sees when the exit overtakes the message), `message`
// says why first, as a real worker does.
if (cluster.isPrimary) superviseWorkers(2, createLogger({ logLevel: 'info', logFormat: 'json' }));
else if (process.env.WORKER_FAILURE === 'message' && process.send)
  process.send({ startupFailed: 'PORT 1 is already in use' }, () => process.exit(STARTUP_FAILED_EXIT_CODE));
else process.exit(STARTUP_FAILED_EXIT_CODE);
