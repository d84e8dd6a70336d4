import type { Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger';

export type Drain = {
  /** True from the moment `start` is called. */
  readonly draining: boolean;
  /** Drains the server; resolves once its last connection has closed. */
  start: () => Promise<void>;
};

/**
 * Graceful drain of an HTTP server. Once started, every response, including those of requests already in flight,
 * carries `Connection: close`; the listener keeps accepting for `delayMs`, so that a load balancer watching readiness
 * stops routing before connections are refused; then it closes with the idle keep-alive sockets, and connections
 * still open after `timeoutMs` more are cut.
 */
export function createDrain(server: Server, options: { delayMs: number; timeoutMs: number; logger: Logger }): Drain {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  // Before the app's own listener, so that even a response sent at once carries the header.
  // One shared listener, not a closure per request: 'close' comes once per response.
  function forget(this: ServerResponse) {
    inFlight.delete(this);
  }
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.on('close', forget);
  });

  const start = async () => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    // Idle keep-alive sockets stay open during the delay: one may hold a request the server has not read yet, which
    // closing it would reset. Their next request is answered with `Connection: close`.
    await sleep(options.delayMs);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A response whose headers went out before the drain began leaves its socket open and idle when it ends.
    for (const res of inFlight) res.once('close', () => setImmediate(() => server.closeIdleConnections()));
    options.logger.info('stopped accepting connections', { pid: process.pid, in_flight: inFlight.size });
    const force = setTimeout(() => {
      options.logger.warn('shutdown timeout reached: closing open connections', { in_flight: inFlight.size });
      server.closeAllConnections();
    }, options.timeoutMs);
    await closed;
    clearTimeout(force);
  };

  return {
    get draining() {
      return draining;
    },
    start,
  };
}
