import { and, desc, eq, isNotNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { builds, providerTokens, repositoryConnections, gitDeliveries, type BuildLogLine } from '../schema';

export type ConnectionRow = typeof repositoryConnections.$inferSelect;
export type NewConnection = typeof repositoryConnections.$inferInsert;
export type BuildRow = typeof builds.$inferSelect;
export type NewBuild = typeof builds.$inferInsert;

export async function findConnection(db: Db, productId: string): Promise<ConnectionRow | undefined> {
  const rows = await db.select().from(repositoryConnections).where(eq(repositoryConnections.productId, productId)).limit(1);
  return rows[0];
}

export async function upsertConnection(db: Db, v: NewConnection): Promise<ConnectionRow> {
  const { productId: _p, createdAt: _c, ...rest } = v;
  const rows = await db
    .insert(repositoryConnections)
    .values(v)
    .onConflictDoUpdate({ target: repositoryConnections.productId, set: { ...rest, updatedAt: new Date() } })
    .returning();
  return rows[0]!;
}

export async function setHookId(db: Db, productId: string, hookId: string | null): Promise<void> {
  await db.update(repositoryConnections).set({ hookId }).where(eq(repositoryConnections.productId, productId));
}

export async function deleteConnection(db: Db, productId: string): Promise<void> {
  await db.delete(repositoryConnections).where(eq(repositoryConnections.productId, productId));
}

/** true when this delivery id is new; false for a redelivery (nothing is written then). */
export async function insertDelivery(db: Db, v: { provider: string; deliveryId: string; productId: string; buildId: string | null }): Promise<boolean> {
  const rows = await db.insert(gitDeliveries).values(v).onConflictDoNothing().returning({ id: gitDeliveries.deliveryId });
  return rows.length === 1;
}

export async function insertBuild(db: Db, v: NewBuild): Promise<BuildRow> {
  const rows = await db.insert(builds).values(v).returning();
  return rows[0]!;
}

export async function findBuild(db: Db, id: string): Promise<BuildRow | undefined> {
  const rows = await db.select().from(builds).where(eq(builds.id, id)).limit(1);
  return rows[0];
}

export function listBuilds(db: Db, productId: string, limit = 50) {
  return db.select().from(builds).where(eq(builds.productId, productId)).orderBy(desc(builds.createdAt)).limit(limit);
}

export async function countBuilds(db: Db, productId: string): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(builds).where(eq(builds.productId, productId));
  return rows[0]?.n ?? 0;
}

/** Appends log lines in one statement (jsonb concatenation: no read-modify-write race). */
export async function appendBuildLog(db: Db, id: string, lines: BuildLogLine[]): Promise<void> {
  await db.update(builds).set({ log: sql`${builds.log} || ${JSON.stringify(lines)}::jsonb` }).where(eq(builds.id, id));
}

export async function startBuildAttempt(db: Db, id: string): Promise<BuildRow | undefined> {
  const rows = await db
    .update(builds)
    .set({ status: 'building', attempts: sql`${builds.attempts} + 1`, startedAt: sql`coalesce(${builds.startedAt}, now())` })
    .where(and(eq(builds.id, id), sql`${builds.status} in ('queued', 'building')`))
    .returning();
  return rows[0];
}

/** Ends a build once: only a build still queued or building changes; false when it had already ended. */
export async function finishBuild(db: Db, id: string, v: { status: 'live' | 'ready' | 'skipped' | 'failed'; reasons: string[]; versionId: string | null; version: string | null }): Promise<boolean> {
  const rows = await db
    .update(builds)
    .set({ ...v, finishedAt: new Date() })
    .where(and(eq(builds.id, id), sql`${builds.status} in ('queued', 'building')`))
    .returning({ id: builds.id });
  return rows.length === 1;
}

export async function saveProviderToken(db: Db, userId: string, provider: string, tokenEnc: string): Promise<void> {
  await db
    .insert(providerTokens)
    .values({ userId, provider, tokenEnc })
    .onConflictDoUpdate({ target: [providerTokens.userId, providerTokens.provider], set: { tokenEnc, updatedAt: new Date() } });
}

export async function findProviderToken(db: Db, userId: string, provider: string): Promise<string | undefined> {
  const rows = await db.select({ t: providerTokens.tokenEnc }).from(providerTokens).where(and(eq(providerTokens.userId, userId), eq(providerTokens.provider, provider))).limit(1);
  return rows[0]?.t;
}

export async function setBuildJob(db: Db, id: string, jobId: string): Promise<void> {
  await db.update(builds).set({ jobId }).where(eq(builds.id, id));
}

/** Builds still queued or building after a while, with their job ids, for the sweep to look up. */
export function unfinishedBuilds(db: Db, olderThan: Date, limit: number) {
  return db
    .select()
    .from(builds)
    .where(and(sql`${builds.status} in ('queued', 'building')`, lt(builds.createdAt, olderThan), isNotNull(builds.jobId)))
    .limit(limit);
}
