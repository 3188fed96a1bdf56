import path from 'node:path';
import { z } from 'zod';

/** The one place that reads the environment: validated once, typed, with defaults. */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: int(0, 10).default(0),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // A starting server holds one connection for its migration lock and migrates on another.
  DATABASE_POOL_MAX: int(2, 200).default(10),
  DATABASE_QUERY_TIMEOUT_MS: int(100, 600000).default(3000),

  S3_BUCKET: z.string().min(3).optional(),
  S3_ENDPOINT: z.url().optional(),
  S3_PUBLIC_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  EMBEDDED_S3_PORT: int(0, 65535).default(4568),

  MAX_UPLOAD_BYTES: int(1024, 5 * 1024 ** 3).default(100 * 1024 * 1024),
  MAX_UNCOMPRESSED_BYTES: int(1024, 20 * 1024 ** 3).default(500 * 1024 * 1024),
  MAX_COMPRESSION_RATIO: int(2, 10000).default(100),

  MEMCACHED_SERVERS: z.string().optional(),
  MEMCACHED_TIMEOUT_MS: int(10, 10000).default(100),

  CACHE_L1_TTL_MS: int(0, 60000).default(1000),
  CACHE_L1_MAX_ENTRIES: int(100, 10_000_000).default(50_000),
  CACHE_SHARED_FRESH_SECONDS: int(1, 86_400).default(300),
  RATE_LIMIT_UPDATES_PER_MINUTE: int(0, 10_000_000).default(600),
  RATE_LIMIT_LICENSES_PER_MINUTE: int(0, 100_000).default(30),
  SHUTDOWN_TIMEOUT_MS: int(0, 600000).default(15000),
  CHECKIN_FLUSH_MS: int(50, 600000).default(2000),
  CHECKIN_RETENTION_DAYS: int(1, 3650).default(90),

  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5000),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(30_000),
  WEBHOOK_POLL_MS: int(50, 60_000).default(1000),

  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('Wharf <wharf@localhost>'),

  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  GITHUB_BASE_URL: z.url().default('https://github.com'),
  GITHUB_API_URL: z.url().default('https://api.github.com'),
  BITBUCKET_CLIENT_ID: z.string().optional(),
  BITBUCKET_CLIENT_SECRET: z.string().optional(),
  BITBUCKET_BASE_URL: z.url().default('https://bitbucket.org'),
  BITBUCKET_API_URL: z.url().default('https://api.bitbucket.org/2.0'),
});

export type Env = z.input<typeof schema>;

/** An OAuth app registered at GitHub or BitBucket; base = web flow host, api = REST API root. */
export interface OAuthProviderConfig {
  clientId: string;
  clientSecret: string;
  baseUrl: string;
  apiUrl: string;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  logLevel: string;
  trustProxy: number;
  /** Signs CSRF and download tokens; persisted under dataDir when not given. */
  secretKey: string | undefined;
  database: { url: string | undefined; poolMax: number; queryTimeoutMs: number; pglitePath: string };
  s3: {
    embedded: boolean;
    bucket: string;
    endpoint: string | undefined;
    publicEndpoint: string | undefined;
    region: string;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    forcePathStyle: boolean;
    embeddedPort: number;
    embeddedDir: string;
  };
  uploads: { maxBytes: number; maxUncompressedBytes: number; maxCompressionRatio: number };
  memcached: { servers: string[]; timeoutMs: number };
  /** In-process cache lifetime for update-check data; 0 disables caching (benchmarks). */
  cacheL1TtlMs: number;
  cacheL1MaxEntries: number;
  cacheSharedFreshSeconds: number;
  /** Per client IP and app server; 0 disables. */
  rateLimits: { updatesPerMinute: number; licensesPerMinute: number };
  shutdownTimeoutMs: number;
  checkinFlushMs: number;
  /** Raw check-ins older than this are dropped, a month partition at a time; rollups are kept. */
  checkinRetentionDays: number;
  /** Notification delivery (Slack, Discord, signed webhooks). */
  webhooks: { allowPrivate: boolean; httpsOnly: boolean; timeoutMs: number; retryBaseMs: number; pollMs: number };
  /** Account e-mail (password resets, address changes); without smtpUrl the messages go to the log. */
  mail: { smtpUrl: string | undefined; from: string };
  /** Sign-in with a provider is offered only when its client id and secret are both set. */
  oauth: { github: OAuthProviderConfig | undefined; bitbucket: OAuthProviderConfig | undefined };
  /** Every call to a Git provider (repositories, hooks, archives, statuses) goes to these roots. */
  git: { githubApiUrl: string; bitbucketApiUrl: string; bitbucketBaseUrl: string };
}

export class ConfigError extends Error {}

function oauthProvider(name: string, id?: string, secret?: string, base?: string, api?: string): OAuthProviderConfig | undefined {
  // Half a pair is a typo, not a choice: say so rather than silently hide the button.
  if (Boolean(id) !== Boolean(secret)) {
    throw new ConfigError(`Invalid configuration:\n  ${name}_CLIENT_${id ? 'SECRET' : 'ID'}: required when ${name}_CLIENT_${id ? 'ID' : 'SECRET'} is set`);
  }
  if (!id || !secret || !base || !api) return undefined;
  return { clientId: id, clientSecret: secret, baseUrl: base.replace(/\/+$/, ''), apiUrl: api.replace(/\/+$/, '') };
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const embedded = !e.S3_BUCKET && !e.S3_ENDPOINT;
  if (!embedded && !e.S3_BUCKET) throw new ConfigError('Invalid configuration:\n  S3_BUCKET: required when S3_ENDPOINT is set');
  if (e.NODE_ENV === 'production' && !e.SECRET_KEY) {
    throw new ConfigError('Invalid configuration:\n  SECRET_KEY: required in production (every app server must share it)');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    dataDir,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    secretKey: e.SECRET_KEY,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
      pglitePath: path.join(dataDir, 'pglite'),
    },
    s3: {
      embedded,
      bucket: e.S3_BUCKET ?? 'wharf',
      endpoint: e.S3_ENDPOINT,
      publicEndpoint: e.S3_PUBLIC_ENDPOINT,
      region: e.S3_REGION,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? (embedded || Boolean(e.S3_ENDPOINT)),
      embeddedPort: e.EMBEDDED_S3_PORT,
      embeddedDir: path.join(dataDir, 's3'),
    },
    uploads: {
      maxBytes: e.MAX_UPLOAD_BYTES,
      maxUncompressedBytes: e.MAX_UNCOMPRESSED_BYTES,
      maxCompressionRatio: e.MAX_COMPRESSION_RATIO,
    },
    memcached: {
      servers: (e.MEMCACHED_SERVERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      timeoutMs: e.MEMCACHED_TIMEOUT_MS,
    },
    cacheL1TtlMs: e.CACHE_L1_TTL_MS,
    cacheL1MaxEntries: e.CACHE_L1_MAX_ENTRIES,
    cacheSharedFreshSeconds: e.CACHE_SHARED_FRESH_SECONDS,
    rateLimits: { updatesPerMinute: e.RATE_LIMIT_UPDATES_PER_MINUTE, licensesPerMinute: e.RATE_LIMIT_LICENSES_PER_MINUTE },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    checkinFlushMs: e.CHECKIN_FLUSH_MS,
    checkinRetentionDays: e.CHECKIN_RETENTION_DAYS,
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      httpsOnly: e.NODE_ENV === 'production',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      pollMs: e.WEBHOOK_POLL_MS,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    oauth: {
      github: oauthProvider('GITHUB', e.GITHUB_CLIENT_ID, e.GITHUB_CLIENT_SECRET, e.GITHUB_BASE_URL, e.GITHUB_API_URL),
      bitbucket: oauthProvider('BITBUCKET', e.BITBUCKET_CLIENT_ID, e.BITBUCKET_CLIENT_SECRET, e.BITBUCKET_BASE_URL, e.BITBUCKET_API_URL),
    },
    git: {
      githubApiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
      bitbucketApiUrl: e.BITBUCKET_API_URL.replace(/\/+$/, ''),
      bitbucketBaseUrl: e.BITBUCKET_BASE_URL.replace(/\/+$/, ''),
    },
  };
}
