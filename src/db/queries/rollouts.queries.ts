import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';
import { products, purchaseCodes, versions } from '../schema';

export interface VersionRolloutChanges {
  rolloutPercent?: number;
  rolloutPaused?: boolean;
  channel?: 'stable' | 'beta';
  pulledAt?: Date | null;
}

/** Changes a version's rollout fields and the product's revision in one transaction (the caches follow the revision). */
export async function updateVersionRollout(db: Db, productId: string, versionId: string, changes: VersionRolloutChanges) {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const rows = await t
      .update(versions)
      .set(changes)
      .where(and(eq(versions.productId, productId), eq(versions.id, versionId)))
      .returning();
    if (rows[0]) await t.update(products).set({ revision: sql`${products.revision} + 1` }).where(eq(products.id, productId));
    return rows[0];
  });
}

/** The default percentage only shapes future releases: no answer changes, so the revision stays. */
export async function setDefaultRolloutPercent(db: Db, userId: string, productId: string, percent: number) {
  const rows = await db
    .update(products)
    .set({ defaultRolloutPercent: percent, updatedAt: new Date() })
    .where(and(eq(products.id, productId), eq(products.userId, userId)))
    .returning();
  return rows[0];
}

export async function setCodeBeta(db: Db, productId: string, codeId: string, beta: boolean) {
  const rows = await db
    .update(purchaseCodes)
    .set({ beta, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), eq(purchaseCodes.id, codeId)))
    .returning();
  return rows[0];
}

/** Each site that checked in within `days` (at most `limit`), with the version its latest check-in reported. */
export async function recentSites(db: Db, productId: string, days = 30, limit = 200_000): Promise<{ host: string; version: string | null }[]> {
  const result = await db.execute(sql`select distinct on (host) host, installed_version as version from checkins
     where product_id = ${productId}::uuid and host is not null and checked_at > now() - make_interval(days => ${days}::int)
     order by host, checked_at desc limit ${limit}::int`);
  return rowsOf<{ host: string; version: string | null }>(result);
}
