import { type Cache, type CacheStats, emptyStats, isStorableTtl } from './cache';
import type { MemoryCache } from './memory-cache';

/**
 * A small in-process L1 in front of a shared L2. The L1 TTL bounds how long another app
 * server's write or delete can go unseen here, so keep it short (a few seconds).
 */
export class LayeredCache implements Cache {
  readonly name: string;
  private l1Hits = 0;

  constructor(
    private readonly l1: MemoryCache,
    private readonly l2: Cache,
    private readonly l1TtlSeconds: number,
  ) {
    this.name = `${l1.name}+${l2.name}`;
  }

  async get(key: string): Promise<Buffer | null> {
    const local = this.l1.getSync(key);
    if (local) {
      this.l1Hits += 1;
      return local;
    }
    const shared = await this.l2.get(key);
    if (shared) this.l1.setSync(key, shared, this.l1TtlSeconds);
    return shared;
  }

  async set(key: string, value: Buffer | string, ttlSeconds: number): Promise<void> {
    // L1 must never outlive what the caller asked for.
    const l1Ttl = isStorableTtl(ttlSeconds) ? Math.min(ttlSeconds, this.l1TtlSeconds) : ttlSeconds;
    this.l1.setSync(key, value, l1Ttl);
    await this.l2.set(key, value, ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    await this.l1.delete(key);
    await this.l2.delete(key);
  }

  async close(): Promise<void> {
    await Promise.all([this.l1.close(), this.l2.close()]);
  }

  stats(): CacheStats {
    const shared = this.l2.stats?.() ?? emptyStats();
    return { ...shared, hits: shared.hits + this.l1Hits };
  }
}
