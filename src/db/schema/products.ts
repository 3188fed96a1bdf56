import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgEnum, pgTable, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './users';

export const productType = pgEnum('product_type', ['plugin', 'theme']);

export const products = pgTable(
  'products',
  {
    // The public id: the one WordPress sites see in update URLs.
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: productType('type').notNull(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    homepage: text('homepage'),
    author: text('author'),
    authorHomepage: text('author_homepage'),
    description: text('description').notNull().default(''),
    installation: text('installation').notNull().default(''),
    changelog: text('changelog').notNull().default(''),
    free: boolean('free').notNull().default(false),
    bannerLow: text('banner_low'),
    bannerHigh: text('banner_high'),
    icon1x: text('icon_1x'),
    icon2x: text('icon_2x'),
    liveVersionId: uuid('live_version_id'),
    // Bumped on every change that alters what the update API answers (cache keys include it).
    revision: bigint('revision', { mode: 'number' }).notNull().default(1),
    // Rollouts (issue 18): the percentage a new release starts at.
    defaultRolloutPercent: smallint('default_rollout_percent').notNull().default(100),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('products_user_slug_idx').on(t.userId, t.type, t.slug),
    index('products_user_idx').on(t.userId),
    check('products_default_rollout_percent_range', sql`${t.defaultRolloutPercent} between 1 and 100`),
  ],
);

/** stable: offered to every site; beta: only to beta codes and checks with channel=beta. */
export const versionChannel = pgEnum('version_channel', ['stable', 'beta']);

/** verifying → ready (offered to sites, downloadable) or refused (object deleted, reasons kept). */
export const versionStatus = pgEnum('version_status', ['verifying', 'ready', 'refused']);

export const versions = pgTable(
  'versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    version: text('version').notNull(),
    // The release key: a server-side copy of the upload under a prefix no presigned policy names.
    s3Key: text('s3_key').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    // Filled in by the verification pass (one stream after finalize), so finalize reads only the ranges it needs.
    sha256: text('sha256'),
    status: versionStatus('status').notNull().default('verifying'),
    reasons: jsonb('reasons').$type<string[] | null>(),
    // Progress and liveness of the verification pass: a stale heartbeat means its server died, and another resumes it.
    verifiedBytes: bigint('verified_bytes', { mode: 'number' }).notNull().default(0),
    verifyHeartbeatAt: timestamp('verify_heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    verifyAttempts: integer('verify_attempts').notNull().default(0),
    name: text('name').notNull(),
    requires: text('requires'),
    tested: text('tested'),
    requiresPhp: text('requires_php'),
    author: text('author'),
    authorUri: text('author_uri'),
    uri: text('uri'),
    // Parsed readme.txt: sections, changelog entries and upgrade notices.
    readme: jsonb('readme').$type<StoredReadme | null>(),
    upgradeNotice: text('upgrade_notice'),
    releasedAt: timestamp('released_at', { withTimezone: true }).notNull().defaultNow(),
    // Rollouts (issue 18): share of sites offered it (by a hash of product and host), halted, channel, pulled.
    rolloutPercent: smallint('rollout_percent').notNull().default(100),
    rolloutPaused: boolean('rollout_paused').notNull().default(false),
    channel: versionChannel('channel').notNull().default('stable'),
    pulledAt: timestamp('pulled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('versions_product_version_idx').on(t.productId, t.version),
    index('versions_product_idx').on(t.productId),
    check('versions_rollout_percent_range', sql`${t.rolloutPercent} between 1 and 100`),
  ],
);

export interface StoredReadme {
  sections: Record<string, string>;
  changelog: { version: string; body: string }[];
  upgradeNotice: Record<string, string>;
  shortDescription: string | null;
}

export const uploadStatus = pgEnum('upload_status', ['pending', 'finalized', 'refused']);

/** Every presigned POST we hand out: finalize accepts only keys we issued, once. */
export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    s3Key: text('s3_key').notNull(),
    status: uploadStatus('status').notNull().default('pending'),
    reasons: jsonb('reasons').$type<string[] | null>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('uploads_key_idx').on(t.s3Key), index('uploads_product_idx').on(t.productId), index('uploads_expires_idx').on(t.expiresAt)],
);
