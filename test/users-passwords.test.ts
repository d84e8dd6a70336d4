import { concurrencyLimit } from '../src/domain/users/passwords';

describe('the bcrypt concurrency limit', () => {
  test('when more tasks than slots arrive at once, then at most the limit run together and every task completes', async () => {
    const limit = concurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const finished: number[] = [];
    const task = (n: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      finished.push(n);
      return n;
    };
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => limit(task(n))));
    expect(results).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(2);
    expect(finished).toHaveLength(7);
  });

  test('when a task fails, then its slot is released for the next one', async () => {
    const limit = concurrencyLimit(1);
    const failing = limit(() => Promise.reject(new Error('boom')));
    const next = limit(() => Promise.resolve('ran'));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
