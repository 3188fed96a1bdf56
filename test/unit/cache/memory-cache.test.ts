import { LayeredCache } from '../../../src/adapters/cache/layered-cache';
import { MemoryCache } from '../../../src/adapters/cache/memory-cache';
import { memcachedKey, parseServers } from '../../../src/adapters/cache/memcached-cache';

function clocked(options: { maxEntries?: number; maxBytes?: number } = {}) {
  const clock = { t: 0 };
  return { clock, cache: new MemoryCache({ ...options, now: () => clock.t }) };
}

describe('MemoryCache', () => {
  it('round-trips strings and binary values', async () => {
    const { cache } = clocked();
    const bytes = Buffer.from([0, 255, 1, 254, 0, 10, 13]);
    await cache.set('bin', bytes, 60);
    await cache.set('text', 'héllo', 60);
    expect(await cache.get('bin')).toEqual(bytes);
    expect((await cache.get('text'))?.toString('utf8')).toBe('héllo');
    expect(await cache.get('missing')).toBeNull();
  });

  it('copies values so callers cannot corrupt entries', async () => {
    const { cache } = clocked();
    const value = Buffer.from('abc');
    await cache.set('k', value, 60);
    value.write('zzz');
    const got = await cache.get('k');
    got?.write('yyy');
    expect((await cache.get('k'))?.toString()).toBe('abc');
  });

  it('expires entries after their TTL', async () => {
    const { cache, clock } = clocked();
    await cache.set('k', 'v', 2);
    clock.t = 1_999;
    expect(await cache.get('k')).not.toBeNull();
    clock.t = 2_000;
    expect(await cache.get('k')).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('treats a ttl <= 0 or NaN as "expire now" and removes an older value', async () => {
    const { cache } = clocked();
    await cache.set('k', 'v', 60);
    await cache.set('k', 'v2', 0);
    expect(await cache.get('k')).toBeNull();
    await cache.set('k', 'v', Number.NaN);
    expect(await cache.get('k')).toBeNull();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const { cache } = clocked({ maxEntries: 3 });
    await cache.set('a', '1', 60);
    await cache.set('b', '2', 60);
    await cache.set('c', '3', 60);
    await cache.get('a'); // a is now the most recently used
    await cache.set('d', '4', 60);
    expect(await cache.get('b')).toBeNull();
    expect(await cache.get('a')).not.toBeNull();
    expect(await cache.get('c')).not.toBeNull();
    expect(await cache.get('d')).not.toBeNull();
    expect(cache.size).toBe(3);
  });

  it('evicts by total bytes and refuses a value bigger than the whole budget', async () => {
    const { cache } = clocked({ maxBytes: 100 });
    await cache.set('a', Buffer.alloc(40), 60); // 41 bytes with the key
    await cache.set('b', Buffer.alloc(40), 60);
    await cache.set('c', Buffer.alloc(40), 60);
    expect(cache.totalBytes).toBeLessThanOrEqual(100);
    expect(await cache.get('a')).toBeNull();
    expect(await cache.get('c')).not.toBeNull();
    await cache.set('c', Buffer.alloc(500), 60);
    expect(await cache.get('c')).toBeNull();
    expect(cache.totalBytes).toBe(41);
  });

  it('replacing a key keeps the byte count right', async () => {
    const { cache } = clocked();
    await cache.set('k', Buffer.alloc(10), 60);
    await cache.set('k', Buffer.alloc(20), 60);
    expect(cache.totalBytes).toBe(21);
    await cache.delete('k');
    expect(cache.totalBytes).toBe(0);
  });

  it('counts hits and misses', async () => {
    const { cache } = clocked();
    await cache.set('k', 'v', 60);
    await cache.get('k');
    await cache.get('nope');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, breakerOpen: false });
  });
});

describe('LayeredCache', () => {
  it('fills L1 from L2, writes both, and caps the L1 TTL', async () => {
    const clock = { t: 0 };
    const l1 = new MemoryCache({ now: () => clock.t });
    const l2 = new MemoryCache({ now: () => clock.t });
    const cache = new LayeredCache(l1, l2, 2);
    expect(cache.name).toBe('memory+memory');
    await l2.set('k', 'from-l2', 60);
    expect((await cache.get('k'))?.toString()).toBe('from-l2');
    expect(l1.getSync('k')?.toString()).toBe('from-l2');

    await cache.set('w', 'both', 60);
    expect(l1.getSync('w')?.toString()).toBe('both');
    expect(l2.getSync('w')?.toString()).toBe('both');
    clock.t = 2_000; // L1 gone, L2 still there
    expect(l1.getSync('w')).toBeNull();
    expect((await cache.get('w'))?.toString()).toBe('both');

    await cache.delete('w');
    expect(await cache.get('w')).toBeNull();
    expect(l2.getSync('w')).toBeNull();
  });
});

describe('memcachedKey / parseServers', () => {
  it('keeps short safe keys and hashes long or unsafe ones', () => {
    expect(memcachedKey('update:plugin/acme-seo')).toBe('update:plugin/acme-seo');
    const long = memcachedKey('x'.repeat(300));
    expect(long).toMatch(/^x{64}#[0-9a-f]{40}$/);
    expect(memcachedKey('has space')).toMatch(/^has_space#[0-9a-f]{40}$/);
    expect(memcachedKey('ctl\u0001')).toMatch(/#[0-9a-f]{40}$/);
    expect(memcachedKey('')).toMatch(/^#[0-9a-f]{40}$/);
    expect(memcachedKey('é'.repeat(126))).toMatch(/#[0-9a-f]{40}$/); // 252 bytes
    expect(memcachedKey('a b')).not.toBe(memcachedKey('a_b'));
    // a raw key can never pose as a hashed one
    const hashed = memcachedKey('a b');
    expect(memcachedKey(hashed)).not.toBe(hashed);
  });

  it('validates host:port entries', () => {
    expect(parseServers(['127.0.0.1:11311', ' cache.internal '])).toEqual(['127.0.0.1:11311', 'cache.internal:11211']);
    expect(() => parseServers(['host:99999'])).toThrow(/Invalid memcached server/);
    expect(() => parseServers(['user:pw@host:1'])).toThrow(/Invalid memcached server/);
  });
});
