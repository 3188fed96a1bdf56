import type { JobQueue } from '../adapters/queue/job-queue';
import { MemcachedCache } from '../adapters/cache/memcached-cache';
import type { Storage } from '../adapters/storage/storage';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { clientSnippet, renderClientFile } from './client-files.service';
import { DownloadsService } from './licensing/downloads.service';
import { LicensesService } from './licensing/licenses.service';
import { PurchaseCodesService } from './licensing/purchase-codes.service';
import { ProductsService } from './products.service';
import { LocalRateLimiter, SharedRateLimiter } from './rate-limits';
import { ReleasesService } from './releases.service';
import { Catalog } from './updates/catalog';
import { CheckinRecorder } from './updates/checkins';
import { DownloadTokens } from './updates/download-tokens';
import { HotCache } from './updates/hot-cache';
import { UpdatesService } from './updates/updates.service';
import { AuthService } from './auth.service';
import { OAuthService } from './oauth.service';
import { SessionsService } from './sessions.service';
import { UsersService } from './users.service';

export interface ServiceDeps {
  config: Config;
  logger: Logger;
  database: Database;
  storage: Storage;
  secretKey: string;
  jobs: JobQueue;
}

function perMinute(n: number): LocalRateLimiter | null {
  return n > 0 ? new LocalRateLimiter(n, n / 60) : null;
}

/** Wires the rules together; nothing here knows about HTTP. */
export function createServices(d: ServiceDeps) {
  const db = d.database.db;
  const { config, logger } = d;
  // memcached is optional: without it the in-process cache and PostgreSQL serve.
  const shared = config.memcached.servers.length ? new MemcachedCache({ servers: config.memcached.servers, timeoutMs: config.memcached.timeoutMs }, logger) : null;
  const catalog = new Catalog(db, shared, { products: new HotCache(config.cacheL1TtlMs), codes: new HotCache(config.cacheL1TtlMs) }, logger);
  const onProductChanged = (id: string) => catalog.invalidateProduct(id);
  const tokens = new DownloadTokens(d.secretKey);
  const checkins = new CheckinRecorder(db, config.checkinFlushMs, logger);

  const users = new UsersService(db);
  const sessions = new SessionsService(db);
  const rateLimits = new SharedRateLimiter(db);
  const products = new ProductsService(db, d.storage, logger, onProductChanged);
  const releases = new ReleasesService(db, d.storage, products, config.uploads, logger, onProductChanged);
  return {
    users,
    sessions,
    auth: new AuthService(db, users, sessions, rateLimits),
    oauth: new OAuthService(users, config.oauth),
    products,
    releases,
    catalog,
    checkins,
    sharedCache: shared,
    updates: new UpdatesService(catalog, tokens, checkins, config.publicUrl),
    downloads: new DownloadsService(db, d.storage, tokens, catalog, logger),
    licenses: new LicensesService(db, catalog),
    purchaseCodes: new PurchaseCodesService(db, products, catalog),
    apiLimits: { updates: perMinute(config.rateLimits.updatesPerMinute), licenses: perMinute(config.rateLimits.licensesPerMinute) },
    clientFiles: { render: renderClientFile, snippet: clientSnippet },
  };
}

export type Services = ReturnType<typeof createServices>;
