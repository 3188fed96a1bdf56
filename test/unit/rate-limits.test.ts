import { LocalRateLimiter } from '../../src/services/rate-limits';

test('a bucket allows its capacity at once, then refills at its rate', () => {
  const limiter = new LocalRateLimiter(3, 1); // 3 at once, one more per second
  const t = 1_000_000;
  expect([limiter.take('ip', t), limiter.take('ip', t), limiter.take('ip', t)]).toEqual([0, 0, 0]);
  expect(limiter.take('ip', t)).toBeCloseTo(1); // one second until the next token
  expect(limiter.take('ip', t + 500)).toBeCloseTo(0.5);
  expect(limiter.take('ip', t + 1000)).toBe(0);
  expect(limiter.take('ip', t + 1000)).toBeGreaterThan(0);
  // Never above capacity, however long it rested.
  expect([0, 1, 2, 3].map(() => limiter.take('ip', t + 3_600_000))).toEqual([0, 0, 0, expect.any(Number)]);
});

test('keys are independent, and at most maxKeys are remembered (the oldest is forgotten)', () => {
  const limiter = new LocalRateLimiter(1, 1 / 60, 2);
  const t = 5_000;
  expect(limiter.take('a', t)).toBe(0);
  expect(limiter.take('b', t)).toBe(0);
  expect(limiter.take('a', t)).toBeCloseTo(60);
  expect(limiter.take('c', t)).toBe(0); // 'a' is forgotten to make room
  expect(limiter.take('a', t)).toBe(0);
});
