import { JobQueue } from './adapters/queue/job-queue';
import type { Cache } from './adapters/cache/cache';
import { MemcachedCache } from './adapters/cache/memcached.cache';
import { S3Storage } from './adapters/storage/s3-storage';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './adapters/storage/embedded-s3';
import type { Storage } from './adapters/storage/storage';
import type { Config } from './config';
import { createPrivateDir, makePrivate } from './data-dir';
import { openDatabase, type Database } from './db/client';
import { migrate } from './db/migrate';
import { embeddedPaths } from './db/pglite-client';
import { startPgliteSocketServer, type PgliteSocketServer } from './db/pglite-server';
import type { Logger } from './logger';
import { createServices, type Services } from './services';
import { resolveSecretKey } from './secret-key';

export interface Runtime {
  config: Config;
  logger: Logger;
  database: Database;
  storage: Storage;
  /** memcached when MEMCACHED_SERVERS is set. */
  sharedCache: Cache | null;
  services: Services;
  jobs: JobQueue;
  secretKey: string;
  embeddedS3?: EmbeddedS3;
  close(): Promise<void>;
}

/** Storage from config: real S3 / S3-compatible when configured, else the embedded s3rver. */
export async function openStorage(config: Config, logger: Logger): Promise<{ storage: Storage; embedded?: EmbeddedS3 }> {
  const c = config.s3;
  if (!c.embedded) {
    return {
      storage: new S3Storage({
        bucket: c.bucket,
        region: c.region,
        forcePathStyle: c.forcePathStyle,
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        ...(c.publicEndpoint ? { publicEndpoint: c.publicEndpoint } : {}),
        ...(c.accessKeyId ? { accessKeyId: c.accessKeyId } : {}),
        ...(c.secretAccessKey ? { secretAccessKey: c.secretAccessKey } : {}),
      }),
    };
  }
  const origin = new URL(config.publicUrl);
  createPrivateDir(c.embeddedDir);
  makePrivate(c.embeddedDir);
  const embedded = await startEmbeddedS3({ port: c.embeddedPort, dir: c.embeddedDir, bucket: c.bucket, corsOrigins: [origin.origin], region: c.region, logger });
  // Browsers reach the embedded S3 on the same host name they use for Wharf.
  const publicEndpoint = c.publicEndpoint ?? `${origin.protocol}//${origin.hostname}:${embedded.port}`;
  const storage = new S3Storage({
    bucket: c.bucket,
    region: c.region,
    forcePathStyle: true,
    endpoint: `http://127.0.0.1:${embedded.port}`,
    publicEndpoint,
    ...EMBEDDED_S3_CREDENTIALS,
  });
  return { storage, embedded };
}

/** memcached is optional: when it is down or not configured, the in-process cache and PostgreSQL serve. */
export function openSharedCache(config: Config, logger: Logger): Cache | null {
  const m = config.memcached;
  return m.servers.length ? new MemcachedCache({ servers: m.servers, timeoutMs: m.timeoutMs }, logger) : null;
}

/** Everything the app needs, connected and migrated: shared by the server, the CLI and tests. */
export async function openRuntime(config: Config, logger: Logger, opts: { migrate?: boolean } = {}): Promise<Runtime> {
  const database = await openDatabase(config.database, logger);
  let socketServer: PgliteSocketServer | undefined;
  try {
    if (opts.migrate !== false) await migrate(database, logger);
    // Local tools (the operator CLI) reach the embedded database through the server that owns it.
    if (database.pglite) socketServer = await startPgliteSocketServer(database.pglite, embeddedPaths(config.database.pglitePath).socket, logger);
    const { storage, embedded } = await openStorage(config, logger);
    const secretKey = resolveSecretKey(config);
    const sharedCache = openSharedCache(config, logger);
    const jobs = new JobQueue(database, logger);
    const services = createServices({ config, logger, database, storage, sharedCache, secretKey, jobs });
    // Services define their job queues while being created; workers start once all are defined.
    await jobs.start();
    services.checkins.start();
    // Notification delivery: every app server works the outbox (rows are leased, SKIP LOCKED).
    services.notifications.start();
    // Every minute (on every server; each task is safe to run concurrently): verifications a crash left
    // unfinished, expired upload slots and their objects, expired sessions, stale login counters.
    const sweep = () => {
      void services.releases.resumeVerification().catch((err: Error) => logger.warn({ err: err.message }, 'release: verification sweep failed'));
      void services.releases.sweepUploads().catch((err: Error) => logger.warn({ err: err.message }, 'uploads: sweep failed'));
      void services.sessions.purgeExpired().catch((err) => logger.warn({ err: (err as Error).message }, 'sessions: purge failed'));
      void services.builds.sweepAbandoned().catch((err: Error) => logger.warn({ err: err.message }, 'git: build sweep failed'));
      void services.auth.purgeStale().catch((err) => logger.warn({ err: (err as Error).message }, 'login throttles: purge failed'));
    };
    const sweeper = setInterval(sweep, 60_000);
    sweeper.unref();
    sweep();
    // Hourly, on one app server at a time (advisory lock): check-in partitions ahead, retention, membership pruning.
    const maintain = () => void services.analytics.maintain().catch((err: Error) => logger.warn({ err: err.message }, 'analytics: partition maintenance failed'));
    const maintainer = setInterval(maintain, 3_600_000);
    maintainer.unref();
    maintain();
    return {
      config,
      logger,
      database,
      storage,
      sharedCache,
      services,
      jobs,
      secretKey,
      ...(embedded ? { embeddedS3: embedded } : {}),
      close: async () => {
        clearInterval(sweeper);
        clearInterval(maintainer);
        await services.notifications.stop();
        await jobs.stop();
        services.catalog.stop();
        await services.releases.idle();
        // Check-ins still in memory are written before the pool closes.
        await services.checkins.stop().catch((err) => logger.error({ err }, 'checkins: final flush failed'));
        await sharedCache?.close();
        await storage.close();
        await embedded?.close();
        await socketServer?.close();
        await database.close();
      },
    };
  } catch (err) {
    await socketServer?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
}
