import type { Db } from '../../data-access/database';
import { pingDatabase } from '../../data-access/health-repository';

export type CheckResult = { status: 'up' | 'down'; latency_ms: number; error?: string };
export type Readiness = { ready: boolean; checks: { database: CheckResult; redis?: CheckResult } };

/** Runs one probe with a deadline, reporting its latency and why it failed. */
export async function runCheck(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), deadline]);
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: error.slice(0, 500) };
  } finally {
    clearTimeout(timer);
  }
}

/** Checks every required dependency; the process is ready when all are up and it is not draining. */
export async function checkReadiness(deps: {
  db: Db;
  timeoutMs: number;
  isDraining: () => boolean;
}): Promise<Readiness> {
  const database = await runCheck(() => pingDatabase(deps.db), deps.timeoutMs);
  return { ready: database.status === 'up' && !deps.isDraining(), checks: { database } };
}
