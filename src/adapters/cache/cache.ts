import type { Logger } from '../../logger';

/**
 * A best-effort cache. Implementations NEVER throw or reject: a failed get is a miss, a failed
 * set/delete is logged (rate-limited, never with value contents) and ignored.
 */
export interface Cache {
  /** The cached bytes, or null on a miss, an expired entry or any failure. */
  get(key: string): Promise<Buffer | null>;
  /** Stores for ttlSeconds (> 0); a ttl <= 0 or non-finite removes the key instead. */
  set(key: string, value: Buffer | string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  readonly name: string;
  /** Counters for tests, benchmarks and /readyz diagnostics. */
  stats?(): CacheStats;
}

export interface CacheStats {
  hits: number;
  misses: number;
  errors: number;
  timeouts: number;
  breakerOpen: boolean;
  breakerOpens: number;
}

/** Zeroed counters, for caches that have nothing to report yet. */
export function emptyStats(): CacheStats {
  return { hits: 0, misses: 0, errors: 0, timeouts: 0, breakerOpen: false, breakerOpens: 0 };
}

/** True when the ttl means "store"; anything else means "expire now". */
export function isStorableTtl(ttlSeconds: number): boolean {
  return Number.isFinite(ttlSeconds) && ttlSeconds > 0;
}

/** Values are stored as bytes so every implementation returns the same thing. */
export function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Logs at most one line per event kind per interval, with a count of what it swallowed,
 * so a dead memcached under load does not flood the log.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', event, fields);
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.write('info', event, fields);
  }

  debug(event: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', event, fields);
  }

  private write(level: 'warn' | 'info' | 'debug', event: string, fields: Record<string, unknown>): void {
    const now = this.now();
    const seen = this.last.get(event);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    this.last.set(event, { at: now, suppressed: 0 });
    try {
      this.logger[level]({ ...fields, event, suppressed: seen?.suppressed ?? 0 }, `cache: ${event}`);
    } catch {
      // a broken log sink must not turn a cache miss into an error
    }
  }
}
