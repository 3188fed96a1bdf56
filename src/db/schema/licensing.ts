import { bigserial, boolean, date, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { products } from './products';

export const purchaseCodes = pgTable(
  'purchase_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    // Canonical form: upper-case base32 without separators.
    code: text('code').notNull(),
    // Entitled to versions released up to the end of this UTC day.
    expiresOn: date('expires_on', { mode: 'string' }),
    maxDownloads: integer('max_downloads'),
    maxSites: integer('max_sites'),
    downloadsUsed: integer('downloads_used').notNull().default(0),
    note: text('note').notNull().default(''),
    // Who bought it, as fields of their own (searchable, exported), beside the free-text note.
    customerEmail: text('customer_email').notNull().default(''),
    customerName: text('customer_name').notNull().default(''),
    // Codes created together share a batch, so a bulk creation can be exported as one CSV.
    batchId: uuid('batch_id'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    // Bumped on every change that alters entitlement (cache keys include it).
    revision: integer('revision').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Rollouts (issue 18): this code's sites are on the beta channel.
    beta: boolean('beta').notNull().default(false),
  },
  (t) => [
    uniqueIndex('purchase_codes_code_idx').on(t.code),
    index('purchase_codes_product_idx').on(t.productId, t.createdAt),
    index('purchase_codes_batch_idx').on(t.batchId),
  ],
);

export const codeSites = pgTable(
  'code_sites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    codeId: uuid('code_id')
      .notNull()
      .references(() => purchaseCodes.id, { onDelete: 'cascade' }),
    host: text('host').notNull(),
    // Development hosts (localhost, private IPs, .test…) never use up a slot.
    countsTowardLimit: boolean('counts_toward_limit').notNull(),
    active: boolean('active').notNull().default(true),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('code_sites_code_host_idx').on(t.codeId, t.host)],
);

export const downloads = pgTable(
  'downloads',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    codeId: uuid('code_id').references(() => purchaseCodes.id, { onDelete: 'set null' }),
    version: text('version').notNull(),
    host: text('host'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('downloads_code_idx').on(t.codeId), index('downloads_product_idx').on(t.productId, t.createdAt)],
);

/**
 * Update checks, written in batches; no raw IP addresses. Identical checks within a flush share a row (`checks`).
 * Partitioned by month on `checked_at` (native range partitioning, made by hand in the analytics migration:
 * drizzle-kit cannot declare it); partitions are created ahead and dropped after CHECKIN_RETENTION_DAYS by
 * src/services/analytics/partitions.ts.
 */
export const checkins = pgTable(
  'checkins',
  {
    id: bigserial('id', { mode: 'number' }).notNull(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    host: text('host'),
    installedVersion: text('installed_version'),
    wpVersion: text('wp_version'),
    phpVersion: text('php_version'),
    locale: text('locale'),
    codeId: uuid('code_id').references(() => purchaseCodes.id, { onDelete: 'set null' }),
    /** When the last of the checks this row stands for happened. */
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull(),
    checks: integer('checks').notNull().default(1),
    /** The licence verdict of the check: 'valid', 'none' (no code sent, or a free product) or a license_error code. */
    license: text('license'),
  },
  (t) => [primaryKey({ columns: [t.id, t.checkedAt] }), index('checkins_product_time_idx').on(t.productId, t.checkedAt), index('checkins_product_host_idx').on(t.productId, t.host)],
);
