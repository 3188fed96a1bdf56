import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { products, versions } from '../schema';
import { preparedFor } from './prepared';

export type CatalogProductRow = typeof products.$inferSelect;
export type CatalogVersionRow = typeof versions.$inferSelect;

/** The update check's reads: what a product offers. */
const statements = preparedFor((db) => ({
  product: db.select().from(products).where(eq(products.id, sql.placeholder('id'))).limit(1).prepare('wharf_catalog_product'),
  version: db
    .select()
    .from(versions)
    .where(and(eq(versions.productId, sql.placeholder('productId')), eq(versions.id, sql.placeholder('versionId')), eq(versions.status, 'ready')))
    .limit(1)
    .prepare('wharf_catalog_version'),
  versionRefs: db
    .select({
      id: versions.id,
      version: versions.version,
      releasedAt: versions.releasedAt,
      requires: versions.requires,
      requiresPhp: versions.requiresPhp,
      channel: versions.channel,
      rolloutPercent: versions.rolloutPercent,
      paused: versions.rolloutPaused,
      pulledAt: versions.pulledAt,
    })
    .from(versions)
    .where(and(eq(versions.productId, sql.placeholder('productId')), eq(versions.status, 'ready')))
    .prepare('wharf_catalog_version_refs'),
}));

export async function catalogProduct(db: Db, id: string): Promise<CatalogProductRow | undefined> {
  return (await statements(db).product.execute({ id }))[0];
}

/** Any kept version of the product that passed verification (nothing else is ever offered). */
export async function catalogVersion(db: Db, productId: string, versionId: string): Promise<CatalogVersionRow | undefined> {
  return (await statements(db).version.execute({ productId, versionId }))[0];
}

/** Every ready version a product keeps, as the entitlement rules need them. */
export function catalogVersionRefs(db: Db, productId: string) {
  return statements(db).versionRefs.execute({ productId });
}

/** The product's current revision (undefined once it is deleted): what other app servers' caches must reach. */
export async function catalogProductRevision(db: Db, id: string): Promise<number | undefined> {
  const rows = await db.select({ revision: products.revision }).from(products).where(eq(products.id, id)).limit(1);
  return rows[0]?.revision;
}
