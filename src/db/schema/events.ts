import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { products } from './products';
import { users } from './users';

/**
 * The outbox: every event a vendor can be notified of, written in the same transaction as the
 * change that caused it, so none is lost and none is announced for a change that rolled back.
 */
export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    productId: uuid('product_id').references(() => products.id, { onDelete: 'set null' }),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Set once the event has been fanned out to its endpoints' deliveries (notifications).
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
  },
  (t) => [index('events_user_time_idx').on(t.userId, t.createdAt), index('events_undispatched_idx').on(t.createdAt).where(sql`dispatched_at is null`)],
);
