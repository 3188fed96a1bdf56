import type { Logger } from '../../logger';
import type { Cache } from './cache';
import type { HotCache } from './hot.cache';

/** How long memcached keeps a value at all: long past its fresh window, as the last known value for failovers. */
export const SHARED_KEEP_SECONDS = 24 * 3600;
/** Marker of a deleted entity: above any revision it ever had. */
export const GONE = 2 ** 31;

interface SharedEntry<T> {
  /** The revision of the row the value was loaded from (GONE for "no such row"). */
  r: number;
  /** Fresh until (epoch ms); served stale afterwards while a reload runs. */
  f: number;
  v: T | null;
}

export interface ReadThroughOptions<T> {
  /** In-process level; a ttl of 0 turns stale-while-revalidate off (every read waits for the truth). */
  l1: HotCache<T | null>;
  /** memcached, optional. */
  shared: Cache | null;
  /**
   * How long a memcached value is fresh. Writes reach readers through revision markers, not expiry:
   * this only bounds how long a lost marker or a change made behind Wharf's back goes unseen.
   */
  sharedFreshSeconds: number;
  /** The shared key of a local key (e.g. a hash of a purchase code). */
  sharedKey: (key: string) => string;
  load: (key: string) => Promise<T | null>;
  revisionOf: (value: T) => number;
  /** Tells the other app servers of a write: `<shared key>:<revision>` (see heard()). */
  publish?: (message: string) => void;
  logger: Logger;
  name: string;
}

/**
 * In process, then memcached, then the database, stale-while-revalidate at both cache levels: past
 * the fresh window the last known value answers at once and one reload per key runs behind it;
 * a read waits only when nothing at all is known. Writers call invalidate() with the revision
 * they committed; memcached keeps that revision under `<key>:r`, and a shared value loaded from
 * an older row (a reader that raced the write) is not used.
 */
export class ReadThroughCache<T> {
  private readonly loads = new Map<string, Promise<T | null>>();
  private readonly refreshes = new Map<string, Promise<T | null>>();
  /** Revisions this process knows to be current (Infinity: a write whose revision is not known yet). */
  private readonly floors = new Map<string, number>();
  private readonly invalidatedAt = new Map<string, number>();
  private seq = 0;
  private readonly swr: boolean;
  private lastWarning = 0;
  /** In-process keys by shared key, so a write heard from another server finds its entry. */
  private readonly byShared = new Map<string, string>();
  /** While other servers' writes are heard (LISTEN/NOTIFY connected), an entry is trusted until one is. */
  private hearing = false;

  constructor(private readonly o: ReadThroughOptions<T>) {
    this.swr = o.l1.ttlMs > 0;
  }

  /** A fresh in-process value without a promise (the hot path); undefined when it must be read. */
  cached(key: string): T | null | undefined {
    return this.o.l1.fresh(key);
  }

  get(key: string): Promise<T | null> {
    const e = this.o.l1.entry(key);
    if (e && e.valid) {
      if (e.freshUntil > Date.now()) return Promise.resolve(e.value);
      if (this.swr) {
        void this.refresh(key).catch((err: unknown) => this.failed(key, err));
        return Promise.resolve(e.value);
      }
    }
    // Nothing usable in process: wait, and fall back on the last known value if the truth cannot be had.
    return this.refresh(key).catch((err: unknown) => {
      const last = this.o.l1.entry(key);
      if (!last) throw err;
      this.failed(key, err);
      return last.value;
    });
  }

  /**
   * After a write: this process stops answering from its copy at once, other processes within
   * their in-process TTL. `revision` is the one the write committed; a promise of it when the
   * writer does not know it (the marker is written once it resolves).
   */
  invalidate(key: string, revision: number | Promise<number>): void {
    this.o.l1.invalidate(key);
    this.invalidatedAt.set(key, ++this.seq);
    if (this.invalidatedAt.size > 10_000) this.invalidatedAt.clear();
    this.loads.delete(key); // reads that start after this must not join one that started before
    this.refreshes.delete(key);
    const mark = (r: number) => {
      this.setFloor(key, r);
      const shared = this.o.sharedKey(key);
      if (this.o.shared) void this.o.shared.set(`${shared}:r`, String(r), SHARED_KEEP_SECONDS);
      this.o.publish?.(`${shared}:${r}`);
    };
    if (typeof revision === 'number') return mark(revision);
    this.setFloor(key, Infinity);
    revision.then(mark, (err: unknown) => this.failed(key, err));
  }

  /** Another server's write (`<shared key>:<revision>`): this server's copy is no longer answered from. */
  heard(message: string): void {
    const at = message.lastIndexOf(':');
    const key = this.byShared.get(message.slice(0, at));
    const revision = Number(message.slice(at + 1));
    if (key === undefined || !Number.isFinite(revision)) return; // not held here
    if (revision <= (this.floors.get(key) ?? 0)) return; // our own write, or an older one
    this.o.l1.invalidate(key);
    this.setFloor(key, revision);
  }

  /**
   * Whether other servers' writes are being heard. When hearing starts (or resumes), whatever was
   * written meanwhile went unheard: every entry is re-read, behind its answer, when next asked for.
   */
  setHearing(hearing: boolean): void {
    this.hearing = hearing;
    this.o.l1.staleAll();
  }

  /** Fresh for the in-process TTL; while writes are heard, until one is (at most the shared fresh window). */
  private freshUntil(now: number): number {
    if (!this.swr) return now;
    return now + (this.hearing ? this.o.sharedFreshSeconds * 1000 : this.o.l1.ttlMs);
  }

  private remember(key: string, shared: string): void {
    if (this.byShared.size >= 2 * this.o.l1.maxEntries) this.byShared.clear(); // entries it forgets fall back on the TTL
    this.byShared.set(shared, key);
  }

  private setFloor(key: string, revision: number): void {
    if (this.floors.size >= 10_000 && !this.floors.has(key)) this.floors.delete(this.floors.keys().next().value as string);
    this.floors.set(key, revision);
  }

  /** memcached, then the database; one at a time per key. */
  private refresh(key: string): Promise<T | null> {
    let p = this.refreshes.get(key);
    if (!p) {
      const started: Promise<T | null> = this.fromShared(key).finally(() => {
        if (this.refreshes.get(key) === started) this.refreshes.delete(key);
      });
      this.refreshes.set(key, (p = started));
    }
    return p;
  }

  private async fromShared(key: string): Promise<T | null> {
    const hit = this.o.shared ? await this.readShared(key) : null;
    if (!hit) return this.load(key);
    const now = Date.now();
    const local = this.o.l1.entry(key);
    // A stale shared copy still answers at once; the reload runs behind it.
    const newer = !local || !local.valid || local.value === null || hit.r >= this.o.revisionOf(local.value);
    if (newer) this.o.l1.set(key, hit.v, now, this.freshUntil(now));
    else this.o.l1.holdOff(key, this.freshUntil(now));
    if (hit.f <= now) void this.load(key).catch((err: unknown) => this.failed(key, err));
    return newer ? hit.v : local!.value;
  }

  private async readShared(key: string): Promise<SharedEntry<T> | null> {
    const shared = this.sharedKeyOf(key);
    this.remember(key, shared);
    const [value, marker] = await Promise.all([this.o.shared!.get(shared), this.o.shared!.get(`${shared}:r`)]);
    if (!value) return null;
    let entry: SharedEntry<T>;
    try {
      entry = JSON.parse(value.toString('utf8')) as SharedEntry<T>;
    } catch {
      return null;
    }
    const floor = Math.max(marker ? Number(marker.toString('utf8')) || 0 : 0, this.floors.get(key) ?? 0);
    return entry.r >= floor ? entry : null;
  }

  private sharedKeyOf(key: string): string {
    return this.o.sharedKey(key);
  }

  /** The database, one load per key; the result goes to both levels unless a write raced it. */
  private load(key: string): Promise<T | null> {
    let p = this.loads.get(key);
    if (p) return p;
    const seq = this.seq;
    const started: Promise<T | null> = this.o.load(key).then((value) => {
      const raced = (this.invalidatedAt.get(key) ?? -1) > seq;
      if (!raced) {
        const now = Date.now();
        this.o.l1.set(key, value, now, this.freshUntil(now));
        if (!this.o.shared) this.remember(key, this.sharedKeyOf(key));
        // "No such row" is kept whatever the markers say: ids and codes are random, never reused.
        const r = value === null ? GONE : this.o.revisionOf(value);
        if (this.floors.get(key) === Infinity) this.floors.set(key, r); // the write is visible now
        const entry: SharedEntry<T> = { r, f: now + this.o.sharedFreshSeconds * 1000, v: value };
        if (this.o.shared) void this.o.shared.set(this.sharedKeyOf(key), JSON.stringify(entry), SHARED_KEEP_SECONDS);
      }
      return value;
    });
    const tracked = started.finally(() => {
      if (this.loads.get(key) === tracked) this.loads.delete(key);
    });
    this.loads.set(key, (p = tracked));
    return p;
  }

  /** A reload failed: keep answering the last known value for one TTL before trying again. */
  private failed(key: string, err: unknown): void {
    this.o.l1.holdOff(key, Date.now() + Math.max(this.o.l1.ttlMs, 1000));
    const now = Date.now();
    if (now - this.lastWarning < 5000) return; // one line per outage burst, not one per key
    this.lastWarning = now;
    this.o.logger.warn({ err, cache: this.o.name }, 'catalog: database unavailable, serving last known data');
  }
}
