import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { products, versions } from './products';

/** One section as stored: its key (`description`, `faq`, `other_notes`…) and sanitized HTML. Order is display order. */
export interface StoredSection {
  key: string;
  html: string;
}

/**
 * Per-version text: the changelog and upgrade notice (sanitized HTML, filled from the zip at upload, editable
 * afterwards) and the readme's sections converted to sanitized HTML once, at upload.
 */
export const versionContent = pgTable(
  'version_content',
  {
    versionId: uuid('version_id')
      .primaryKey()
      .references(() => versions.id, { onDelete: 'cascade' }),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    changelog: text('changelog').notNull().default(''),
    upgradeNotice: text('upgrade_notice').notNull().default(''),
    sections: jsonb('sections').$type<StoredSection[]>().notNull().default([]),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('version_content_product_idx').on(t.productId)],
);

/** The vendor's own sections (edited in the dashboard or by API), sanitized HTML; they win over the readme's. */
export const productSections = pgTable('product_sections', {
  productId: uuid('product_id')
    .primaryKey()
    .references(() => products.id, { onDelete: 'cascade' }),
  sections: jsonb('sections').$type<StoredSection[]>().notNull().default([]),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
