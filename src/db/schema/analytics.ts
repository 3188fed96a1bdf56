import { bigint, date, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { products } from './products';

/**
 * Every site that ever checked in, per product, as of its latest check: exact "last seen", upserted by the
 * check-in flush. The per-window breakdowns (versions, WordPress, PHP, locales, licences) and the active
 * install counts are read from here. Kept until the product is deleted or the site erased.
 */
export const productSites = pgTable(
  'product_sites',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    host: text('host').notNull(),
    installedVersion: text('installed_version'),
    wpVersion: text('wp_version'),
    phpVersion: text('php_version'),
    locale: text('locale'),
    license: text('license').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    checks: bigint('checks', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.productId, t.host] }), index('product_sites_last_seen_idx').on(t.productId, t.lastSeenAt)],
);

/**
 * Daily rollups, kept for ever: per product, UTC day, dimension ('all', 'version', 'wordpress', 'php', 'locale',
 * 'license') and value, the number of distinct sites that checked in that day with that value, and (for 'all')
 * the checks. Exact: a site is counted when its (day, dimension, value) first enters analytics_site_days.
 */
export const analyticsDaily = pgTable(
  'analytics_daily',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    dimension: text('dimension').notNull(),
    value: text('value').notNull(),
    sites: integer('sites').notNull().default(0),
    checks: bigint('checks', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.productId, t.dimension, t.day, t.value] })],
);

/**
 * Which sites were already counted for a recent day: the membership that makes the daily distinct counts exact.
 * Only the last few days are kept (check-ins arrive seconds after they happen); older days are pruned.
 */
export const analyticsSiteDays = pgTable(
  'analytics_site_days',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    dimension: text('dimension').notNull(),
    value: text('value').notNull(),
    host: text('host').notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.day, t.dimension, t.value, t.host] }), index('analytics_site_days_day_idx').on(t.day)],
);

/**
 * Sites by the day of their latest check and their latest values: per product, UTC day, dimension ('all',
 * 'version', 'wordpress', 'php', 'locale', 'license') and value, how many sites were last seen that day with
 * that value. Summing the days of a window gives, exactly, the window's sites each counted once by its latest
 * check, in time independent of the number of sites. Kept in step with product_sites by the flush (moving a
 * site from its old day and values to its new ones) under an advisory lock; kept for ever.
 */
export const analyticsLastSeenDaily = pgTable(
  'analytics_last_seen_daily',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    dimension: text('dimension').notNull(),
    value: text('value').notNull(),
    sites: integer('sites').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.productId, t.day, t.dimension, t.value] })],
);
