import { memcachedKey, parseServers } from '../../../src/adapters/cache/memcached.cache';

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
