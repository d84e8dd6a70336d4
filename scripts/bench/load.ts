import autocannon from 'autocannon';

/** One request shape; `perConnection` gives connection i its own variant (round robin), e.g. its own user. */
export type LoadRequest = { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };

/** A load job: one autocannon run against one server. */
export type LoadJob = {
  url: string;
  connections: number;
  durationSeconds: number;
  request: LoadRequest;
  perConnection?: LoadRequest[];
};

/** What the harness keeps of a run: counts, and every response time (ms) so runs can be merged exactly. */
export type LoadResult = {
  requests: number;
  seconds: number;
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
};

/** Runs one job with autocannon and collects its response times. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.durationSeconds,
        timeout: 30,
        method: job.request.method,
        headers: job.request.headers,
        body: job.request.body,
        requests: [{ path: job.request.path }],
        setupClient: (client) => {
          const variants = job.perConnection;
          if (!variants?.length) return;
          const variant = variants[next++ % variants.length];
          if (variant) client.setRequest({ ...variant, headers: { ...job.request.headers, ...variant.headers } });
        },
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const statusCodes = Object.fromEntries(
          Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, (stat as { count: number }).count]),
        );
        resolve({
          requests: result.requests.total,
          seconds: result.duration || job.durationSeconds,
          latencies,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

// Run as a forked child of the harness: jobs arrive over IPC, so the load is generated outside both the servers and
// the process that probes /health and samples memory.
if (require.main === module && process.send) {
  process.on('message', (message: { id: number; job: LoadJob }) => {
    runLoad(message.job).then(
      (result) => process.send?.({ id: message.id, result }),
      (err: unknown) => process.send?.({ id: message.id, error: String(err) }),
    );
  });
}
