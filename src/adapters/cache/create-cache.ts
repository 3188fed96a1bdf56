import type { Logger } from '../../logger';
import type { Cache } from './cache';
import { LayeredCache } from './layered-cache';
import { MemcachedCache } from './memcached-cache';
import { MemoryCache } from './memory-cache';

export interface CacheConfig {
  /** `host:port` list; empty means no memcached. */
  servers: string[];
  timeoutMs: number;
}

/** Seconds an L1 entry may hide another app server's write or delete. */
const L1_TTL_SECONDS = 2;

/** memcached behind a small L1 when servers are configured, else an in-process cache. */
export function createCache(config: CacheConfig, logger: Logger): Cache {
  if (config.servers.length === 0) {
    logger.info({ cache: 'memory' }, 'cache: no memcached configured, using in-process cache');
    return new MemoryCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });
  }
  const l2 = new MemcachedCache({ servers: config.servers, timeoutMs: config.timeoutMs }, logger);
  const l1 = new MemoryCache({ maxEntries: 2_000, maxBytes: 16 * 1024 * 1024 });
  logger.info({ cache: 'memcached', servers: config.servers }, 'cache: using memcached with an in-process L1');
  return new LayeredCache(l1, l2, L1_TTL_SECONDS);
}
