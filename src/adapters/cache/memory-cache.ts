import { type Cache, type CacheStats, emptyStats, isStorableTtl, toBuffer } from './cache';

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries?: number;
  /** Most bytes kept (values plus keys); bigger single values are not stored. */
  maxBytes?: number;
  /** Injected clock so tests can expire entries without sleeping. */
  now?: () => number;
}

interface Entry {
  value: Buffer;
  expiresAt: number;
  size: number;
}

/** An in-process LRU with per-entry TTL, bounded by entry count and total bytes. */
export class MemoryCache implements Cache {
  readonly name = 'memory';
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  // A Map iterates in insertion order: re-inserting on access makes the first key the LRU one.
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.maxBytes = Math.max(1, options.maxBytes ?? 64 * 1024 * 1024);
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<Buffer | null> {
    return this.getSync(key);
  }

  /** Synchronous lookup, for callers on a hot path that want to skip a microtask. */
  getSync(key: string): Buffer | null {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses += 1;
      return null;
    }
    if (entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      this.misses += 1;
      return null;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits += 1;
    // A copy, like a fresh network read: a caller mutating it must not corrupt the cache.
    return Buffer.from(entry.value);
  }

  async set(key: string, value: Buffer | string, ttlSeconds: number): Promise<void> {
    this.setSync(key, value, ttlSeconds);
  }

  setSync(key: string, value: Buffer | string, ttlSeconds: number): void {
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    if (!isStorableTtl(ttlSeconds)) return;
    const stored = Buffer.from(toBuffer(value)); // copy: the caller may reuse its buffer
    const size = stored.byteLength + Buffer.byteLength(key);
    if (size > this.maxBytes) return;
    this.entries.set(key, { value: stored, expiresAt: this.now() + ttlSeconds * 1000, size });
    this.bytes += size;
    this.evict();
  }

  async delete(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  stats(): CacheStats {
    return { ...emptyStats(), hits: this.hits, misses: this.misses };
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return;
      this.remove(key, entry);
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.size;
  }
}
