import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { productSections, products, versionContent, versions, type StoredSection } from '../schema';

export type VersionContentRow = typeof versionContent.$inferSelect;

/** The catalog snapshot's one read of per-version text: every ready version's changelog and notice, and its sections. */
export function readyVersionContent(db: Db, productId: string) {
  return db
    .select({ versionId: versionContent.versionId, version: versions.version, changelog: versionContent.changelog, upgradeNotice: versionContent.upgradeNotice, sections: versionContent.sections })
    .from(versionContent)
    .innerJoin(versions, eq(versions.id, versionContent.versionId))
    .where(and(eq(versionContent.productId, productId), eq(versions.status, 'ready')));
}

export async function productSectionsOf(db: Db, productId: string): Promise<StoredSection[] | null> {
  const rows = await db.select({ sections: productSections.sections }).from(productSections).where(eq(productSections.productId, productId)).limit(1);
  return rows[0]?.sections ?? null;
}

export async function versionContentOf(db: Db, versionId: string): Promise<VersionContentRow | undefined> {
  const rows = await db.select().from(versionContent).where(eq(versionContent.versionId, versionId)).limit(1);
  return rows[0];
}

/** Every version of the product with its text (left join: versions from before per-version text have none). */
export function versionsWithContent(db: Db, productId: string) {
  return db
    .select({ versionId: versions.id, version: versions.version, changelog: versionContent.changelog, upgradeNotice: versionContent.upgradeNotice })
    .from(versions)
    .leftJoin(versionContent, eq(versionContent.versionId, versions.id))
    .where(eq(versions.productId, productId));
}

/** At upload: the new version's text; older versions get the zip's entries only where they have no row yet. */
export async function insertVersionContent(db: Db, rows: (typeof versionContent.$inferInsert)[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(versionContent).values(rows).onConflictDoNothing();
}

export async function upsertVersionContent(db: Db, productId: string, versionId: string, set: { changelog?: string; upgradeNotice?: string }): Promise<void> {
  await db
    .insert(versionContent)
    .values({ versionId, productId, ...set })
    .onConflictDoUpdate({ target: versionContent.versionId, set: { ...set, updatedAt: new Date() } });
}

export async function upsertProductSections(db: Db, productId: string, sections: StoredSection[]): Promise<void> {
  await db
    .insert(productSections)
    .values({ productId, sections })
    .onConflictDoUpdate({ target: productSections.productId, set: { sections, updatedAt: new Date() } });
}

/** What the update API answers changed: caches keyed by revision must move on. */
export async function bumpProductRevision(db: Db, productId: string): Promise<void> {
  await db
    .update(products)
    .set({ updatedAt: new Date(), revision: sql`${products.revision} + 1` })
    .where(eq(products.id, productId));
}
