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
  const started = Date.now();
  let calls = 0;
  await expect(
    retryWhileFailingOver(async () => {
      calls++;
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    }, 700),
  ).rejects.toThrow('refused');
  expect(Date.now() - started).toBeLessThan(1500);
  expect(calls).toBeGreaterThanOrEqual(3);
});
