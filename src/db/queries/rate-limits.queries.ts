import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';

/** Atomic fixed-window counter: one upsert, correct under concurrency across app servers. */
export async function hitWindow(db: Db, key: string, now: Date, windowMs: number) {
  // ISO strings with casts: both drivers bind them the same way.
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - windowMs).toISOString();
  const result = await db.execute(sql`
    insert into rate_limits (key, window_start, count) values (${key}, ${at}::timestamptz, 1)
    on conflict (key) do update set
      count = case when rate_limits.window_start <= ${cutoff}::timestamptz then 1 else rate_limits.count + 1 end,
      window_start = case when rate_limits.window_start <= ${cutoff}::timestamptz then ${at}::timestamptz else rate_limits.window_start end
    returning count, window_start`);
  const row = rowsOf<{ count: number; window_start: string | Date }>(result)[0]!;
  return { count: Number(row.count), windowStart: new Date(row.window_start) };
}

export async function clearWindow(db: Db, key: string): Promise<void> {
  await db.execute(sql`delete from rate_limits where key = ${key}`);
}

/** Windows that started before `before` can no longer count anything. */
export async function deleteWindowsBefore(db: Db, before: Date): Promise<void> {
  await db.execute(sql`delete from rate_limits where window_start < ${before.toISOString()}::timestamptz`);
}
