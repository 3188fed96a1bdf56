import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { MemcachedCache, type MemcachedCacheOptions } from '../../../src/adapters/cache/memcached.cache';
import { createLogger } from '../../../src/logger';
import { type MemcachedProcess, startMemcached } from '../../support/memcached';

const logger = createLogger('silent');
const TIMEOUT_MS = 100;
const caches: MemcachedCache[] = [];

function cacheFor(ports: number[], options: Partial<MemcachedCacheOptions> = {}): MemcachedCache {
  const cache = new MemcachedCache({ servers: ports.map((p) => `127.0.0.1:${p}`), timeoutMs: TIMEOUT_MS, ...options }, logger);
  caches.push(cache);
  return cache;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** True when the promise settles within a burst of microtasks: no I/O or timer can run in between. */
async function settlesWithoutWaiting(promise: Promise<unknown>): Promise<boolean> {
  let chain: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < 50; i++) chain = chain.then(() => undefined);
  return Promise.race([promise.then(() => true), chain.then(() => false)]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

describe('MemcachedCache against a real memcached', () => {
  let server: MemcachedProcess;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('round-trips set, get and delete', async () => {
    const cache = cacheFor([server.port]);
    expect(await cache.get('rt:missing')).toBeNull();
    await cache.set('rt:k', 'hello', 60);
    expect((await cache.get('rt:k'))?.toString()).toBe('hello');
    await cache.set('rt:k', 'again', 60);
    expect((await cache.get('rt:k'))?.toString()).toBe('again');
    await cache.delete('rt:k');
    expect(await cache.get('rt:k')).toBeNull();
    await cache.delete('rt:never-set'); // not found is not an error
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, errors: 0, timeouts: 0, breakerOpen: false });
  });

  it('keeps binary values byte for byte', async () => {
    const cache = cacheFor([server.port]);
    const bytes = Buffer.alloc(256 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    await cache.set('bin:k', bytes, 60);
    expect((await cache.get('bin:k'))?.equals(bytes)).toBe(true);
    await cache.set('bin:empty', Buffer.alloc(0), 60);
    expect(await cache.get('bin:empty')).toEqual(Buffer.alloc(0));
  });

  it('accepts any key: long, unicode, whitespace and control characters', async () => {
    const cache = cacheFor([server.port]);
    const keys = ['k'.repeat(1000), 'with space\tand\nnewline', 'ünïcødé-'.repeat(40), '', 'ctl\u0000\u0007'];
    for (const [i, key] of keys.entries()) await cache.set(key, `v${i}`, 60);
    for (const [i, key] of keys.entries()) expect((await cache.get(key))?.toString()).toBe(`v${i}`);
    // two long keys sharing their first 250 bytes stay distinct
    await cache.set(`${'p'.repeat(300)}a`, 'A', 60);
    await cache.set(`${'p'.repeat(300)}b`, 'B', 60);
    expect((await cache.get(`${'p'.repeat(300)}a`))?.toString()).toBe('A');
    expect(cache.stats().errors).toBe(0);
  });

  it('expires entries after their TTL', async () => {
    const cache = cacheFor([server.port]);
    await cache.set('ttl:k', 'v', 1);
    expect(await cache.get('ttl:k')).not.toBeNull();
    const start = Date.now();
    while ((await cache.get('ttl:k')) !== null && Date.now() - start < 4_000) await sleep(100);
    expect(await cache.get('ttl:k')).toBeNull();
    expect(Date.now() - start).toBeGreaterThanOrEqual(500);
  });

  it('skips values bigger than the item limit without tripping the breaker', async () => {
    const cache = cacheFor([server.port], { maxValueBytes: 1024 });
    await cache.set('big:k', 'small', 60);
    for (let i = 0; i < 5; i++) await cache.set('big:k', Buffer.alloc(2048), 60);
    expect(await cache.get('big:k')).toBeNull(); // the older value is gone too
    expect(cache.stats()).toMatchObject({ breakerOpen: false, errors: 0 });
  });
});

describe('MemcachedCache with two servers', () => {
  it('spreads keys across both and reads them all back', async () => {
    const [a, b] = await Promise.all([startMemcached(), startMemcached()]);
    try {
      const cache = cacheFor([a.port, b.port]);
      const keys = Array.from({ length: 100 }, (_, i) => `spread:${i}`);
      for (const key of keys) await cache.set(key, key, 60);
      for (const key of keys) expect((await cache.get(key))?.toString()).toBe(key);
      const onA = cacheFor([a.port]);
      const onB = cacheFor([b.port]);
      let countA = 0;
      let countB = 0;
      for (const key of keys) {
        if (await onA.get(key)) countA += 1;
        if (await onB.get(key)) countB += 1;
      }
      expect(countA).toBeGreaterThan(10);
      expect(countB).toBeGreaterThan(10);
      expect(countA + countB).toBe(keys.length);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('MemcachedCache when memcached fails', () => {
  it('server killed: misses come fast, then the breaker answers with zero waiting', async () => {
    const server = await startMemcached();
    const cache = cacheFor([server.port]);
    await cache.set('dead:k', 'v', 60);
    await server.kill();
    for (let i = 0; i < 3; i++) {
      const { value, ms } = await timed(() => cache.get('dead:k'));
      expect(value).toBeNull();
      expect(ms).toBeLessThan(300);
    }
    expect(cache.stats()).toMatchObject({ breakerOpen: true, breakerOpens: 1 });
    // Zero waiting, checked without a clock: each miss settles before any I/O or timer could run.
    for (let i = 0; i < 200; i++) {
      expect(await cache.get(`dead:${i}`)).toBeNull();
      expect(await settlesWithoutWaiting(cache.get(`dead:${i}`))).toBe(true);
    }
    await cache.set('dead:k', 'v', 60); // writes are dropped just as fast, without throwing
    await cache.delete('dead:k');
  });

  it('server frozen (SIGSTOP): every call is bounded by our timeout', async () => {
    const server = await startMemcached();
    try {
      const cache = cacheFor([server.port]);
      await cache.set('frozen:k', 'v', 60);
      server.pause();
      for (let i = 0; i < 3; i++) {
        const { value, ms } = await timed(() => cache.get('frozen:k'));
        expect(value).toBeNull();
        // Left alone, a call to a frozen server never returns: any bound well above our timeout will do.
        expect(ms).toBeLessThan(TIMEOUT_MS * 10);
      }
      // The breaker is open by now: writes and reads are dropped without waiting.
      expect(await settlesWithoutWaiting(cache.set('frozen:k', 'v2', 60))).toBe(true);
      expect(await settlesWithoutWaiting(cache.get('frozen:k'))).toBe(true);
      const stats = cache.stats();
      expect(stats.breakerOpen).toBe(true);
      // memjs' own socket timeout races ours: either way each call counts as one failure
      expect(stats.timeouts + stats.errors).toBe(3);
    } finally {
      server.resume();
      await server.stop();
    }
  });

  it('server restarted on the same port: the cache is used again after the cooldown', async () => {
    const cooldownMs = 300;
    const first = await startMemcached();
    let second: MemcachedProcess | undefined;
    try {
      const cache = cacheFor([first.port], { cooldownMs });
      await first.kill();
      for (let i = 0; i < 3; i++) await cache.get('restart:k');
      expect(cache.stats().breakerOpen).toBe(true);
      second = await startMemcached({ port: first.port });
      const restartedAt = Date.now();
      let hit: Buffer | null = null;
      // Back after the cooldown (about 0.3–0.6 s here); the generous deadline only stops a hang.
      while (!hit && Date.now() - restartedAt < 15_000) {
        await cache.set('restart:k', 'back', 60);
        hit = await cache.get('restart:k');
        if (!hit) await sleep(25);
      }
      expect(hit?.toString()).toBe('back');
      expect(cache.stats()).toMatchObject({ breakerOpen: false, breakerOpens: 1 });
      const hitsBefore = cache.stats().hits;
      for (let i = 0; i < 10; i++) expect(await cache.get('restart:k')).not.toBeNull();
      expect(cache.stats().hits).toBe(hitsBefore + 10);
    } finally {
      await second?.stop();
    }
  });

  it('server closing the connection mid-request: no hang, a miss within the timeout', async () => {
    const sockets = new Set<net.Socket>();
    const rude = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.destroy()); // reads the request, then hangs up without answering
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    const port = (rude.address() as net.AddressInfo).port;
    try {
      const cache = cacheFor([port]);
      for (let i = 0; i < 3; i++) {
        const { value, ms } = await timed(() => cache.get(`rude:${i}`));
        expect(value).toBeNull();
        expect(ms).toBeLessThan(TIMEOUT_MS * 10); // memjs alone would hang here forever
      }
      expect(cache.stats().breakerOpen).toBe(true);
      expect(await settlesWithoutWaiting(cache.get('rude:after'))).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => rude.close(resolve));
    }
  });
});
