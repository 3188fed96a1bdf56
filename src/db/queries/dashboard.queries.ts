import { and, countDistinct, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { checkins, products, purchaseCodes, versions } from '../schema';
import { statusCondition } from './licensing.queries';

/** What the products list shows per product: live version and active codes, in two queries for all of them. */
export async function productOverview(db: Db, userId: string, today: string) {
  const rows = await db
    .select({ id: products.id, liveVersion: versions.version })
    .from(products)
    .leftJoin(versions, eq(versions.id, products.liveVersionId))
    .where(eq(products.userId, userId));
  const ids = rows.map((r) => r.id);
  const active = ids.length
    ? await db
        .select({ productId: purchaseCodes.productId, n: sql<number>`count(*)::int` })
        .from(purchaseCodes)
        .where(and(inArray(purchaseCodes.productId, ids), statusCondition('active', today)))
        .groupBy(purchaseCodes.productId)
    : [];
  const activeOf = new Map(active.map((a) => [a.productId, Number(a.n)]));
  return new Map(rows.map((r) => [r.id, { liveVersion: r.liveVersion ?? null, activeCodes: activeOf.get(r.id) ?? 0 }]));
}

/** Distinct sites that checked for updates of a product since `since`: who a live-version change reaches. */
export async function sitesCheckingSince(db: Db, productId: string, since: Date): Promise<number> {
  const rows = await db
    .select({ n: countDistinct(checkins.host) })
    .from(checkins)
    .where(and(eq(checkins.productId, productId), gte(checkins.checkedAt, since)));
  return Number(rows[0]?.n ?? 0);
}

export async function countVersions(db: Db, productId: string): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(versions).where(eq(versions.productId, productId));
  return Number(rows[0]?.n ?? 0);
}
