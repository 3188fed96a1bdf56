import type { JobQueue } from '../adapters/queue/job-queue';
import type { Cache } from '../adapters/cache/cache';
import type { Storage } from '../adapters/storage/storage';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { clientSnippet, renderClientFile } from './client-files.service';
import { DownloadTokens } from './licensing/download-token.codec';
import { DownloadsService } from './licensing/downloads.service';
import { LicensesService } from './licensing/licenses.service';
import { PurchaseCodesService } from './licensing/purchase-codes.service';
import { ProductsService } from './products.service';
import { LocalRateLimiter, SharedRateLimiter } from './rate-limits';
import { ReleasesService } from './releases.service';
import { RolloutsService } from './rollouts.service';
import { Catalog } from './updates/catalog.service';
import { CheckinRecorder } from './updates/checkin.recorder';
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
  /** memcached, optional: without it the in-process cache and PostgreSQL serve. */
  sharedCache: Cache | null;
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
  const catalog = new Catalog(db, d.sharedCache, { ttlMs: config.cacheL1TtlMs, maxEntries: config.cacheL1MaxEntries, sharedFreshSeconds: config.cacheSharedFreshSeconds }, logger);
  // Other app servers' writes are heard through PostgreSQL; its listening connection is checked every 2 s.
  catalog.attach(d.database, d.database.kind === 'postgres' ? 2000 : undefined);
  // The one invalidation path: every write that changes an update-check answer reports here.
  const onProductChanged = (id: string) => catalog.invalidateProduct(id);
  const onCodeChanged = (code: string, revision: number) => catalog.invalidateCode(code, revision);
  const tokens = new DownloadTokens(d.secretKey);
  const checkins = new CheckinRecorder(db, config.checkinFlushMs, logger);

  const users = new UsersService(db);
  const sessions = new SessionsService(db);
  const rateLimits = new SharedRateLimiter(db);
  const products = new ProductsService(db, d.storage, logger, onProductChanged);
  const releases = new ReleasesService(db, d.storage, products, config.uploads, logger, onProductChanged);
  const purchaseCodes = new PurchaseCodesService(db, products, onCodeChanged);
  return {
    users,
    sessions,
    auth: new AuthService(db, users, sessions, rateLimits),
    oauth: new OAuthService(users, config.oauth),
    products,
    releases,
    catalog,
    checkins,
    updates: new UpdatesService(catalog, tokens, checkins, config.publicUrl),
    downloads: new DownloadsService(d.database.counterDb, d.storage, tokens, onCodeChanged),
    licenses: new LicensesService(db, onCodeChanged),
    purchaseCodes,
    rollouts: new RolloutsService(db, products, releases, purchaseCodes, onProductChanged, onCodeChanged, logger),
    apiLimits: { updates: perMinute(config.rateLimits.updatesPerMinute), licenses: perMinute(config.rateLimits.licensesPerMinute) },
    clientFiles: { render: renderClientFile, snippet: clientSnippet },
  };
}

export type Services = ReturnType<typeof createServices>;
