import { retryWhileFailingOver } from '../../src/db/query-timeout';

test('work that never reached a primary is retried with backoff until it succeeds', async () => {
  let calls = 0;
  const result = await retryWhileFailingOver(async () => {
    calls++;
    if (calls < 3) throw Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    return 'written';
  });
  expect(result).toBe('written');
  expect(calls).toBe(3);
});

test('errors that may have run (or are not about reaching the server) are not retried', async () => {
  let calls = 0;
  await expect(
    retryWhileFailingOver(async () => {
      calls++;
      throw Object.assign(new Error('duplicate key'), { code: '23505' });
    }),
  ).rejects.toThrow('duplicate key');
  expect(calls).toBe(1);
});

test('retries stop at the window', async () => {
  // Fake clock: the schedule is checked exactly, whatever else the machine is doing.
  jest.useFakeTimers();
  try {
    const calls: number[] = [];
    const outcome = retryWhileFailingOver(async () => {
      calls.push(Date.now());
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    }, 700).catch((err: Error) => err);
    await jest.advanceTimersByTimeAsync(10_000);
    expect((await outcome as Error).message).toBe('refused');
    // Waits of 100, 200, 400 ms; the next (500) would end past the 700 ms window, so it gives up.
    expect(calls.map((t) => t - calls[0]!)).toEqual([0, 100, 300, 700]);
  } finally {
    jest.useRealTimers();
  }
});
