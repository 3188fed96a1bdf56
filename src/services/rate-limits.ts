import type { Db } from '../db/client';
import { clearWindow, deleteWindowsBefore, hitWindow } from '../db/queries/rate-limits.queries';
import { RateLimitedError } from '../lib/errors';

export interface Limit {
  limit: number;
  windowMs: number;
}

/** Counters in PostgreSQL, shared by every app server (login: few requests, must be exact). */
export class SharedRateLimiter {
  constructor(private readonly db: Db) {}

  async hit(key: string, l: Limit, now = new Date(), message = 'Too many attempts; try again later.'): Promise<void> {
    const { count, windowStart } = await hitWindow(this.db, key, now, l.windowMs);
    if (count > l.limit) throw new RateLimitedError((windowStart.getTime() + l.windowMs - now.getTime()) / 1000, message);
  }

  reset(key: string): Promise<void> {
    return clearWindow(this.db, key);
  }

  /** Every window is at most a day long; older rows are dead weight. */
  purgeStale(now = new Date()): Promise<void> {
    return deleteWindowsBefore(this.db, new Date(now.getTime() - 86400_000));
  }
}

/**
 * Per-process token buckets for the public API hot path: no database write per request.
 * With N app servers the effective limit is up to N times higher, which the README states.
 */
export class LocalRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Returns 0 when allowed, else the seconds to wait. */
  take(key: string, now = Date.now()): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: this.capacity, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.refillPerSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.refillPerSecond;
  }
}
