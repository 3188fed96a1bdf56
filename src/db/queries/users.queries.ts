import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys, sessions, users } from '../schema';

export type UserRow = typeof users.$inferSelect;

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(sql`lower(${users.email}) = lower(${email})`).limit(1);
  return rows[0];
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return rows[0];
}

/** Returns undefined when the email is taken (unique index), so callers need no pre-check race. */
export async function insertUser(db: Db, email: string, passwordHash: string): Promise<UserRow | undefined> {
  const rows = await db.insert(users).values({ email, passwordHash }).onConflictDoNothing().returning();
  return rows[0];
}

export async function insertSession(db: Db, idHash: string, userId: string, expiresAt: Date): Promise<void> {
  await db.insert(sessions).values({ idHash, userId, expiresAt });
}

export async function findSessionUser(db: Db, idHash: string, now: Date) {
  const rows = await db
    .select({ user: users, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)))
    .limit(1);
  return rows[0];
}

export async function extendSession(db: Db, idHash: string, expiresAt: Date): Promise<void> {
  await db.update(sessions).set({ expiresAt }).where(eq(sessions.idHash, idHash));
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, idHash));
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
}

export async function insertApiKey(db: Db, v: { userId: string; name: string; prefix: string; keyHash: string }) {
  const rows = await db.insert(apiKeys).values(v).returning();
  return rows[0]!;
}

export async function findApiKeyUser(db: Db, keyHash: string) {
  const rows = await db
    .select({ keyId: apiKeys.id, user: users })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return rows[0];
}

export async function touchApiKey(db: Db, keyId: string, now: Date): Promise<void> {
  await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId));
}

export function listApiKeys(db: Db, userId: string) {
  return db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(apiKeys.createdAt);
}

/** The key's name, or null when the vendor has no such unrevoked key. */
export async function revokeApiKey(db: Db, userId: string, keyId: string, now: Date): Promise<string | null> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ name: apiKeys.name });
  return rows[0]?.name ?? null;
}

export type OAuthProvider = 'github' | 'bitbucket';

const providerColumn = (p: OAuthProvider) => (p === 'github' ? users.githubId : users.bitbucketId);

export async function findUserByProvider(db: Db, provider: OAuthProvider, providerId: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(providerColumn(provider), providerId)).limit(1);
  return rows[0];
}

/** No password: the account signs in through its provider. Undefined when the email or provider id is taken. */
export async function insertProviderUser(db: Db, email: string, provider: OAuthProvider, providerId: string): Promise<UserRow | undefined> {
  const ids = provider === 'github' ? { githubId: providerId } : { bitbucketId: providerId };
  const rows = await db.insert(users).values({ email, passwordHash: null, ...ids }).onConflictDoNothing().returning();
  return rows[0];
}

/** Attaches only to an account without one for that provider; false otherwise (or if another account has that id). */
export async function setUserProvider(db: Db, userId: string, provider: OAuthProvider, providerId: string): Promise<boolean> {
  const col = providerColumn(provider);
  const set = provider === 'github' ? { githubId: providerId } : { bitbucketId: providerId };
  try {
    const rows = await db.update(users).set(set).where(and(eq(users.id, userId), isNull(col))).returning({ id: users.id });
    return rows.length > 0;
  } catch (err) {
    // The unique index says another account already has this provider id.
    const e = err as { code?: string; cause?: { code?: string } };
    if (e.code === '23505' || e.cause?.code === '23505') return false;
    throw err;
  }
}
