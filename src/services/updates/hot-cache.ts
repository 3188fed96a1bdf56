/**
 * In-process objects for the hot path: fresh for ttlMs, and kept afterwards as "last known good"
 * so update checks still answer while the database fails over.
 */
export class HotCache<T> {
  private readonly entries = new Map<string, { value: T; freshUntil: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  fresh(key: string, now = Date.now()): T | undefined {
    const e = this.entries.get(key);
    return e && e.freshUntil > now ? e.value : undefined;
  }

  stale(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: T, now = Date.now()): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.delete(key); // re-insert: Map order doubles as LRU order
    this.entries.set(key, { value, freshUntil: now + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
