import type { Db } from '../client';
import { events } from '../schema';

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;

export async function insertEvent(db: Db, e: NewEvent): Promise<EventRow> {
  const rows = await db.insert(events).values(e).returning();
  return rows[0]!;
}
