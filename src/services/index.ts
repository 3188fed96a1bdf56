import type { JobQueue } from '../adapters/queue/job-queue';
import type { Cache } from '../adapters/cache/cache';
import type { Storage } from '../adapters/storage/storage';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { AnalyticsService } from './analytics/analytics.service';
import { ClientErrorsService } from './client-errors.service';
import { ContentService } from './content/content.service';
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
import { logMailer, smtpMailer } from '../adapters/mail/mailer';
import { AccountService } from './account.service';
import { AuthService } from './auth.service';
import { DashboardService } from './dashboard.service';
import { MediaService } from './media.service';
import { OAuthService } from './oauth.service';
import { SessionsService } from './sessions.service';
import { UsersService } from './users.service';
import { NotificationsService } from './notifications/notifications.service';
import { SecretBox } from '../lib/secret-box';
import { BUILD_RETRY_LIMIT, BuildRunner } from './git/build-runner';
import { BitbucketProvider, GitHubProvider, type GitProvider, type GitProviderName } from './git/git-providers';
import { BUILD_QUEUE, RepositoriesService } from './git/repositories.service';

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
  const analytics = new AnalyticsService(db, products, config.checkinRetentionDays, logger);
  const box = new SecretBox(d.secretKey);
  const gitProviders: Record<GitProviderName, GitProvider> = {
    github: new GitHubProvider(config.git.githubApiUrl),
    bitbucket: new BitbucketProvider(config.git.bitbucketApiUrl, config.git.bitbucketBaseUrl),
  };
  const repositories = new RepositoriesService(db, products, gitProviders, box, d.jobs, d.sharedCache, config.publicUrl, logger);
  const builds = new BuildRunner(db, d.storage, releases, gitProviders, box, config.publicUrl, logger, d.jobs, BUILD_QUEUE, config.uploads.maxBytes);
  // One build per product at a time (singleton keyed by product); a dead server's build is retried elsewhere after its heartbeat lapses.
  d.jobs.define<{ buildId: string }>(BUILD_QUEUE, {
    policy: 'singleton',
    retryLimit: BUILD_RETRY_LIMIT,
    retryDelaySeconds: 10,
    retryDelayMaxSeconds: 300,
    heartbeatSeconds: 10,
    expireInSeconds: 30 * 60,
    concurrency: 2,
    pollingIntervalSeconds: 2,
    handler: (job) => builds.run(job),
  });
  const mailer = config.mail.smtpUrl ? smtpMailer(config.mail.smtpUrl, config.mail.from) : logMailer(logger);
  const purchaseCodes = new PurchaseCodesService(db, products, onCodeChanged);
  return {
    account: new AccountService(db, d.storage, products, sessions, rateLimits, mailer, config.publicUrl, logger),
    users,
    repositories,
    builds,
    sessions,
    auth: new AuthService(db, users, sessions, rateLimits),
    oauth: new OAuthService(users, config.oauth),
    products,
    releases,
    content: new ContentService(db, products, onProductChanged),
    clientErrors: new ClientErrorsService(logger),
    catalog,
    checkins,
    analytics,
    updates: new UpdatesService(catalog, tokens, checkins, config.publicUrl),
    downloads: new DownloadsService(d.database.counterDb, d.storage, tokens, onCodeChanged),
    licenses: new LicensesService(db, onCodeChanged),
    purchaseCodes,
    rollouts: new RolloutsService(db, products, releases, purchaseCodes, onProductChanged, onCodeChanged, logger),
    apiLimits: { updates: perMinute(config.rateLimits.updatesPerMinute), licenses: perMinute(config.rateLimits.licensesPerMinute) },
    notifications: new NotificationsService(db, products, config.webhooks, config.publicUrl, d.secretKey, logger),
    clientFiles: { render: renderClientFile, snippet: clientSnippet },
    dashboard: new DashboardService(db),
    media: new MediaService(db, d.storage, products, config.publicUrl),
  };
}

export type Services = ReturnType<typeof createServices>;
