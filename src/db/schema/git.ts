import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { products } from './products';
import { users } from './users';

/**
 * A product's Git repository: where releases are built from. Token and webhook secret are stored
 * encrypted (AES-256-GCM, key derived from SECRET_KEY with HKDF): a database dump alone reveals neither.
 */
export const repositoryConnections = pgTable('repository_connections', {
  productId: uuid('product_id')
    .primaryKey()
    .references(() => products.id, { onDelete: 'cascade' }),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  provider: text('provider').$type<'github' | 'bitbucket'>().notNull(),
  /** owner/name (GitHub) or workspace/repo_slug (BitBucket). */
  repository: text('repository').notNull(),
  ruleKind: text('rule_kind').$type<'tags' | 'branch'>().notNull(),
  ruleValue: text('rule_value').notNull(),
  tokenEnc: text('token_enc').notNull(),
  /** 'pasted' or 'oauth' (the token from sign-in). */
  tokenSource: text('token_source').notNull(),
  webhookSecretEnc: text('webhook_secret_enc').notNull(),
  hookId: text('hook_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One row per delivery the provider sent: a redelivery (same id) finds its row and builds nothing new. */
export const gitDeliveries = pgTable(
  'git_deliveries',
  {
    provider: text('provider').notNull(),
    deliveryId: text('delivery_id').notNull(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    buildId: uuid('build_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.deliveryId] })],
);

export interface BuildLogLine {
  at: string;
  line: string;
}

/** queued → building → live (or ready: built, but an older number than the live version) | failed. */
export const builds = pgTable(
  'builds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    repository: text('repository').notNull(),
    ref: text('ref').notNull(),
    commitSha: text('commit_sha').notNull(),
    status: text('status').$type<'queued' | 'building' | 'live' | 'ready' | 'skipped' | 'failed'>().notNull().default('queued'),
    reasons: jsonb('reasons').$type<string[]>().notNull().default([]),
    log: jsonb('log').$type<BuildLogLine[]>().notNull().default([]),
    attempts: integer('attempts').notNull().default(0),
    /** The pg-boss job running it: a build whose job ended without ending the build (its last attempt's server died) is failed by the sweep. */
    jobId: text('job_id'),
    /** Set once the zip was finalized: a retried job then waits for that version instead of building again. */
    versionId: uuid('version_id'),
    version: text('version'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('builds_product_time_idx').on(t.productId, t.createdAt)],
);

/** The access token a vendor's GitHub/BitBucket sign-in (or link) left, encrypted like the others; used when no token is pasted. */
export const providerTokens = pgTable(
  'provider_tokens',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    tokenEnc: text('token_enc').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.provider] })],
);
