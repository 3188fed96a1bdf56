import { HotCache } from '../../../src/adapters/cache/hot.cache';

test('fresh for the TTL, then stale but kept; an invalidated entry is never fresh but keeps its value', () => {
  const c = new HotCache<string | null>(1000);
  c.set('k', 'v', 0);
  expect(c.fresh('k', 999)).toBe('v');
  expect(c.fresh('k', 1000)).toBeUndefined();
  expect(c.entry('k')).toEqual({ value: 'v', freshUntil: 1000, valid: true });
  c.set('none', null, 0);
  expect(c.fresh('none', 1)).toBeNull(); // "no such row" is an answer too
  expect(c.fresh('missing', 1)).toBeUndefined();
  c.invalidate('k');
  expect(c.fresh('k', 1)).toBeUndefined();
  expect(c.entry('k')).toMatchObject({ value: 'v', valid: false });
  c.holdOff('k', 5000); // an invalidated entry is not revived
  expect(c.fresh('k', 2)).toBeUndefined();
  c.set('k', 'v2', 10);
  expect(c.fresh('k', 11)).toBe('v2');
  c.delete('k');
  expect(c.entry('k')).toBeUndefined();
});

test('holdOff keeps a stale value answering until the given time', () => {
  const c = new HotCache<string>(100);
  c.set('k', 'v', 0);
  expect(c.fresh('k', 150)).toBeUndefined();
  c.holdOff('k', 1150);
  expect(c.fresh('k', 1000)).toBe('v');
  expect(c.fresh('k', 1150)).toBeUndefined();
});

test('bounded in entries: the least recently written goes first', () => {
  const c = new HotCache<number>(1000, 3);
  c.set('a', 1, 0);
  c.set('b', 2, 0);
  c.set('c', 3, 0);
  c.set('a', 11, 0); // rewritten: now the newest
  c.set('d', 4, 0);
  expect(c.size).toBe(3);
  expect(c.entry('b')).toBeUndefined();
  expect(['a', 'c', 'd'].map((k) => c.fresh(k, 1))).toEqual([11, 3, 4]);
});

test('a TTL of 0 is never fresh (stale-while-revalidate off)', () => {
  const c = new HotCache<string>(0);
  c.set('k', 'v', 0);
  expect(c.fresh('k', 0)).toBeUndefined();
  expect(c.entry('k')?.value).toBe('v');
});
