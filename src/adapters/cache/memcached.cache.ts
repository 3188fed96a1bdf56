import { createHash } from 'node:crypto';
import { Client } from 'memjs';
import type { Logger } from '../../logger';
import { type Cache, type CacheStats, RateLimitedLog, isStorableTtl } from './cache';
import { type BreakerState, CircuitBreaker } from './circuit-breaker';

export interface MemcachedCacheOptions {
  /** `host:port` (port defaults to 11211); memjs spreads keys across them by hash. */
  servers: string[];
  /** Hard bound on every call, whatever memjs does underneath. */
  timeoutMs: number;
  /** Consecutive failures/timeouts that open the breaker (default 3). */
  failureThreshold?: number;
  /** First cooldown while open (default 5 s), doubled after each failed probe. */
  cooldownMs?: number;
  /** Cap on the doubled cooldown (default 60 s). */
  maxCooldownMs?: number;
  /** Values above this are not sent (memcached's default item limit is 1 MiB). */
  maxValueBytes?: number;
}

const MAX_KEY_BYTES = 250;
const THIRTY_DAYS_S = 30 * 24 * 3600;
const TIMED_OUT = Symbol('timed out');
// '#' is reserved for hashed keys so a raw key can never collide with a hashed one.
const UNSAFE_KEY = /[\s\u0000-\u001f\u007f-\u009f#]/u;
const SERVER = /^([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/;

/** Any string → a valid memcached key: long or unsafe keys become `<readable prefix>#<sha1>`. */
export function memcachedKey(key: string): string {
  if (key.length > 0 && Buffer.byteLength(key) <= MAX_KEY_BYTES && !UNSAFE_KEY.test(key)) return key;
  const prefix = key.slice(0, 64).replace(/[^A-Za-z0-9_.:/-]/g, '_');
  return `${prefix}#${createHash('sha1').update(key, 'utf8').digest('hex')}`;
}

/** Validates `host[:port]` entries up front so a typo fails at startup, not on every call. */
export function parseServers(servers: string[]): string[] {
  return servers.map((raw) => {
    const server = raw.trim();
    const match = SERVER.exec(server);
    const port = Number(match?.[2] ?? 11211);
    if (!match || port < 1 || port > 65535) {
      throw new Error(`Invalid memcached server "${server}": expected host:port`);
    }
    return `${match[1]}:${port}`;
  });
}

type Outcome<T> = { ok: true; value: T } | { ok: false };

/** memcached through memjs, bounded by our own timeout and a circuit breaker; never throws. */
export class MemcachedCache implements Cache {
  readonly name = 'memcached';
  private readonly servers: string;
  private readonly timeoutMs: number;
  private readonly cooldownMs: number;
  private readonly maxValueBytes: number;
  private readonly breaker: CircuitBreaker;
  private readonly log: RateLimitedLog;
  private readonly counters = { hits: 0, misses: 0, errors: 0, timeouts: 0 };
  private client: Client;
  // Bumped whenever the client is replaced, so late results of old calls do not sway the breaker.
  private generation = 0;
  private closed = false;

  constructor(options: MemcachedCacheOptions, logger: Logger) {
    const servers = parseServers(options.servers);
    if (servers.length === 0) throw new Error('MemcachedCache needs at least one server');
    if (!(options.timeoutMs > 0)) throw new Error('MemcachedCache timeoutMs must be > 0');
    this.servers = servers.join(',');
    this.timeoutMs = options.timeoutMs;
    this.cooldownMs = options.cooldownMs ?? 5_000;
    this.maxValueBytes = options.maxValueBytes ?? 1_000_000;
    this.log = new RateLimitedLog(logger.child({ component: 'cache', servers: this.servers }));
    this.breaker = new CircuitBreaker({
      failureThreshold: options.failureThreshold ?? 3,
      cooldownMs: this.cooldownMs,
      maxCooldownMs: options.maxCooldownMs ?? 60_000,
      onStateChange: (from, to) => this.onBreaker(from, to),
    });
    this.client = this.newClient();
  }

  async get(key: string): Promise<Buffer | null> {
    const result = await this.call('get', (client, k) => client.get(k).then((r) => r.value), key);
    if (result.ok && result.value) {
      this.counters.hits += 1;
      return result.value;
    }
    this.counters.misses += 1;
    return null;
  }

  async set(key: string, value: Buffer | string, ttlSeconds: number): Promise<void> {
    if (!isStorableTtl(ttlSeconds)) return this.delete(key);
    const size = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
    if (size > this.maxValueBytes) {
      this.log.debug('value too large for memcached, not cached', { bytes: size });
      return this.delete(key); // an older value must not outlive this write
    }
    const ttl = Math.ceil(ttlSeconds);
    // memcached reads an expiry above 30 days as a unix timestamp.
    const expires = ttl > THIRTY_DAYS_S ? Math.floor(Date.now() / 1000) + ttl : ttl;
    await this.call('set', (client, k) => client.set(k, value, { expires }), key);
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', (client, k) => client.delete(k), key);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation += 1;
    retire(this.client);
  }

  stats(): CacheStats {
    return { ...this.counters, breakerOpen: this.breaker.state !== 'closed', breakerOpens: this.breaker.opens };
  }

  private async call<T>(op: string, fn: (client: Client, key: string) => Promise<T>, key: string): Promise<Outcome<T>> {
    if (this.closed || !this.breaker.allow()) return { ok: false }; // open: a miss with zero waiting
    const generation = this.generation;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT);
    });
    try {
      const value = await Promise.race([fn(this.client, memcachedKey(key)), deadline]);
      if (value === TIMED_OUT) {
        this.counters.timeouts += 1;
        this.log.warn('memcached call timed out', { op, timeoutMs: this.timeoutMs });
        this.report(generation, false);
        return { ok: false };
      }
      this.report(generation, true);
      return { ok: true, value };
    } catch (err) {
      this.counters.errors += 1;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn('memcached call failed', { op, error: message });
      // memjs prefixes errors that are memcached's own answers: the server is up, just said no.
      this.report(generation, message.startsWith('MemJS '));
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  private report(generation: number, ok: boolean): void {
    if (generation !== this.generation) return;
    if (ok) this.breaker.success();
    else this.breaker.failure();
  }

  private onBreaker(from: BreakerState, to: BreakerState): void {
    if (to === 'open') {
      // A fresh client drops stuck sockets, orphaned callbacks and memjs' own failover marks.
      this.generation += 1;
      retire(this.client);
      this.client = this.newClient();
      this.log.warn('memcached unavailable, circuit open', {
        cooldownMs: this.breaker.currentCooldownMs,
        opens: this.breaker.opens,
      });
    } else if (to === 'closed' && from !== 'closed') {
      this.log.info('memcached reachable again, circuit closed');
    }
  }

  private newClient(): Client {
    const timeout = this.timeoutMs / 1000;
    return Client.create(this.servers, {
      timeout,
      conntimeout: timeout,
      retries: 1,
      keepAlive: true,
      failover: true,
      failoverTime: this.cooldownMs / 1000, // memjs' default 60 s would outlast our breaker's cooldown
      logger: { log: (...args: unknown[]) => this.log.debug('memjs', { detail: String(args[0]) }) },
    });
  }
}

/** Destroys a client's sockets and fails its pending requests without re-sending them elsewhere. */
function retire(client: Client): void {
  client.options.failover = false;
  for (const server of client.servers) {
    try {
      server.error(new Error('memcached client retired'));
    } catch {
      // nothing left to clean
    }
  }
}
