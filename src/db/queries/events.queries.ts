import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { events } from '../schema';

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;

export async function insertEvent(db: Db, e: NewEvent): Promise<EventRow> {
  const rows = await db.insert(events).values(e).returning();
  return rows[0]!;
}

/** The `product` and `code` members of a code's event data, as SQL over `p` (products) and `c` (purchase_codes); as event-data.ts builds them. */
export const PRODUCT_REF_SQL = sql`jsonb_build_object('id', p.id, 'name', p.name, 'slug', p.slug)`;
// The code grouped as formatCode (purchase-code.format.ts) groups it: 5-5-5-5-6 for new codes, fours for legacy ones.
export const CODE_REF_SQL = sql`jsonb_build_object('id', c.id, 'code', case when length(c.code) = 26
  then substr(c.code, 1, 5) || '-' || substr(c.code, 6, 5) || '-' || substr(c.code, 11, 5) || '-' || substr(c.code, 16, 5) || '-' || substr(c.code, 21)
  else regexp_replace(c.code, '(.{4})(?!$)', '\\1-', 'g') end, 'note', c.note)`;

/** Records an event about a code from inside SQL (the statement or transaction that changed it). */
export async function insertCodeEvent(db: Db, type: string, codeId: string, extra: Record<string, unknown>): Promise<void> {
  await db.execute(sql`insert into events (user_id, product_id, type, data)
    select p.user_id, p.id, ${type}, jsonb_build_object('product', ${PRODUCT_REF_SQL}, 'code', ${CODE_REF_SQL}) || ${JSON.stringify(extra)}::jsonb
    from purchase_codes c join products p on p.id = c.product_id where c.id = ${codeId}::uuid`);
}
