/**
 * Polls every `intervalMs` until `probe` returns (or resolves to) a value other than undefined, and returns it; fails
 * after `timeoutMs` saying `what` did not happen. For what happens after a response (work run in the background, a
 * log line, a dependency coming back), without a fixed wait.
 */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5_000,
  what = 'condition not met in time',
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
