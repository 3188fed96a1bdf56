import { and, eq, lt } from 'drizzle-orm';
import type { Db } from '../client';
import { loginThrottles } from '../schema';

export type LoginThrottleRow = typeof loginThrottles.$inferSelect;

/**
 * Runs `decide` on the pair's row (undefined when none) with the row locked, and stores what it
 * returns: concurrent attempts of one pair are decided one after the other, on any app server.
 */
export async function withLockedThrottle<T>(
  db: Db,
  account: string,
  network: string,
  decide: (row: LoginThrottleRow | undefined) => { result: T; store?: Omit<LoginThrottleRow, 'account' | 'network'> },
): Promise<T> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const where = and(eq(loginThrottles.account, account), eq(loginThrottles.network, network));
    // A placeholder row gives the lock something to hold when this pair has no history yet.
    const epoch = new Date(0);
    await t.insert(loginThrottles).values({ account, network, failures: 0, lastFailureAt: epoch, nextAttemptAt: epoch }).onConflictDoNothing();
    const rows = await t.select().from(loginThrottles).where(where).for('update');
    const row = rows[0] && rows[0].failures > 0 ? rows[0] : undefined;
    const { result, store } = decide(row);
    if (store) await t.update(loginThrottles).set(store).where(where);
    return result;
  });
}

export async function clearThrottle(db: Db, account: string, network: string): Promise<void> {
  await db.delete(loginThrottles).where(and(eq(loginThrottles.account, account), eq(loginThrottles.network, network)));
}

/** Pairs quiet since `before` start again from zero; placeholders left by a crash go too. */
export async function deleteQuietThrottles(db: Db, before: Date): Promise<void> {
  await db.delete(loginThrottles).where(lt(loginThrottles.lastFailureAt, before));
}
