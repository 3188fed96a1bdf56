import { and, eq, gt, ne } from 'drizzle-orm';
import type { Db } from '../client';
import { accountTokens, loginThrottles, sessions, users } from '../schema';
import type { OAuthProvider } from './users.queries';

export type AccountTokenPurpose = 'password_reset' | 'email_change';

/** A new token of a purpose replaces every older one of that user (only the newest link works). */
export async function replaceToken(db: Db, v: { userId: string; purpose: AccountTokenPurpose; tokenHash: string; newEmail?: string | null; expiresAt: Date }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(accountTokens).where(and(eq(accountTokens.userId, v.userId), eq(accountTokens.purpose, v.purpose)));
    await tx.insert(accountTokens).values({ ...v, newEmail: v.newEmail ?? null });
  });
}

/** Takes (deletes) an unexpired token: single use, whatever happens next. */
export async function takeToken(db: Db, purpose: AccountTokenPurpose, tokenHash: string, now: Date) {
  const rows = await db
    .delete(accountTokens)
    .where(and(eq(accountTokens.tokenHash, tokenHash), eq(accountTokens.purpose, purpose), gt(accountTokens.expiresAt, now)))
    .returning();
  return rows[0];
}

export async function findLiveToken(db: Db, purpose: AccountTokenPurpose, tokenHash: string, now: Date) {
  const rows = await db
    .select()
    .from(accountTokens)
    .where(and(eq(accountTokens.tokenHash, tokenHash), eq(accountTokens.purpose, purpose), gt(accountTokens.expiresAt, now)))
    .limit(1);
  return rows[0];
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
}

/** False when another account already has the address (unique index). */
export async function setEmail(db: Db, userId: string, email: string): Promise<boolean> {
  try {
    const rows = await db.update(users).set({ email }).where(eq(users.id, userId)).returning({ id: users.id });
    return rows.length > 0;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    if (e.code === '23505' || e.cause?.code === '23505') return false;
    throw err;
  }
}

/** Signs the user out everywhere except the session whose hash is kept (null: everywhere). */
export async function deleteSessionsOf(db: Db, userId: string, keepIdHash: string | null): Promise<void> {
  await db.delete(sessions).where(keepIdHash ? and(eq(sessions.userId, userId), ne(sessions.idHash, keepIdHash)) : eq(sessions.userId, userId));
}

export async function clearProvider(db: Db, userId: string, provider: OAuthProvider): Promise<void> {
  await db.update(users).set(provider === 'github' ? { githubId: null } : { bitbucketId: null }).where(eq(users.id, userId));
}

/** The account row; sessions, API keys, tokens and events go with it (foreign keys cascade). */
export async function deleteUser(db: Db, userId: string, emailHash: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(loginThrottles).where(eq(loginThrottles.account, emailHash));
    await tx.delete(users).where(eq(users.id, userId));
  });
}
