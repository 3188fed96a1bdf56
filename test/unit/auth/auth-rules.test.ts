import { AUTH_RULES, delayAfter, networkOf } from '../../../src/services/auth.service';

test('no wait for the first failures, then doubling waits up to the cap', () => {
  const waits = Array.from({ length: 20 }, (_, i) => delayAfter(i + 1));
  expect(waits.slice(0, AUTH_RULES.freeFailures - 1).every((w) => w === 0)).toBe(true);
  expect(waits.slice(AUTH_RULES.freeFailures - 1, AUTH_RULES.freeFailures + 3)).toEqual([1000, 2000, 4000, 8000]);
  expect(Math.max(...waits)).toBe(AUTH_RULES.maxDelayMs);
  for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThanOrEqual(waits[i - 1]!);
});

test.each([
  ['203.0.113.7', '203.0.113.7'],
  ['::ffff:203.0.113.7', '203.0.113.7'],
  ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
  ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
  ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
  ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
  [undefined, 'unknown'],
  ['', 'unknown'],
])('the network of %s is %s', (ip, network) => {
  expect(networkOf(ip)).toBe(network);
});
