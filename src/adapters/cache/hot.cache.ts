/** One in-process entry: `valid` false after an invalidation (kept only as the last known value). */
export interface HotEntry<T> {
  value: T;
  freshUntil: number;
  valid: boolean;
}

/**
 * In-process objects for the hot path, bounded in entries (least recently written go first).
 * Past `freshUntil` an entry is stale, not gone: the read-through cache answers from it while it
 * refreshes, and falls back on it while the database fails over.
 */
export class HotCache<T> {
  private readonly entries = new Map<string, HotEntry<T>>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries = 50_000,
  ) {}

  /** The value while fresh and valid; undefined otherwise (the update check's synchronous path). */
  fresh(key: string, now = Date.now()): T | undefined {
    const e = this.entries.get(key);
    return e && e.valid && e.freshUntil > now ? e.value : undefined;
  }

  entry(key: string): HotEntry<T> | undefined {
    return this.entries.get(key);
  }

  /** Fresh for `ttlMs` from `now` (or until `freshUntil`). */
  set(key: string, value: T, now = Date.now(), freshUntil = now + this.ttlMs): void {
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { value, freshUntil, valid: true }); // re-inserted: Map order doubles as recency order
  }

  /** Not answered from any more, but kept as the last known value. */
  invalidate(key: string): void {
    const e = this.entries.get(key);
    if (e) e.valid = false;
  }

  /** After a failed refresh: answer the stale value, without trying again, until `until`. */
  holdOff(key: string, until: number): void {
    const e = this.entries.get(key);
    if (e?.valid) e.freshUntil = until;
  }

  /** Everything becomes stale (still valid): each entry is re-read, behind its answer, when next asked for. */
  staleAll(): void {
    for (const e of this.entries.values()) e.freshUntil = 0;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
